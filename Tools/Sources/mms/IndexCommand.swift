import ArgumentParser
import Foundation
import MultimodalSearch
import SearchCore

#if canImport(Glibc)
import Glibc
#endif

/// `mms index <folder> --store <dir>`.
struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Index every JPEG and PNG under a folder into a store; resumes an interrupted run.")

    @Argument(help: "The folder to index (searched recursively).")
    var folder: String

    @OptionGroup var options: StoreOptions

    @Option(help: "Items per encoder batch.")
    var batch: Int = 32

    func run() throws {
        let catalog = try FolderCatalog(root: URL(fileURLWithPath: folder))
        let (engine, store, records) = try options.open(restoring: false)
        let done = Set(records.compactMap { $0.metadata["file"] })
        var nextID = (records.map(\.id).max() ?? 0) + (records.isEmpty ? 0 : 1)
        let pending = catalog.entries.filter { !done.contains($0.relativePath) }
        if options.clip == nil {
            print("No CLIP weights (--clip DIR): pictures are checked but not embedded; search is by caption text.")
        }
        print("\(catalog.entries.count) pictures under \(catalog.root.path); \(done.count) already in \(options.store); \(pending.count) to index.")
        let progress = Progress(total: pending.count)
        var skipped: [(String, SearchError)] = []
        var indexed = 0
        var start = 0
        while start < pending.count {
            let slice = pending[start..<min(start + max(1, batch), pending.count)]
            var byID: [VectorID: FolderCatalog.Entry] = [:]
            var items: [CatalogItem] = []
            for entry in slice {
                let id = VectorID(nextID)
                nextID += 1
                byID[id] = entry
                items.append(
                    CatalogItem(
                        id: id, caption: entry.caption, image: .file(entry.path),
                        metadata: ["category": entry.category, "file": entry.relativePath]))
            }
            let report = try engine.ingest(items)
            for (id, error) in report.skipped {
                let path = byID[id]?.relativePath ?? "\(id)"
                progress.clearLine()
                FileHandle.standardError.write(Data("warning: skipped \(path): \(error)\n".utf8))
                skipped.append((path, error))
            }
            let entries = report.indexed.compactMap { id -> (SearchStore.Record, [Float]?, [Float]?)? in
                guard let item = items.first(where: { $0.id == id }) else { return nil }
                let caption = report.captionEmbeddings[id]
                let image = report.imageEmbeddings[id]
                return (
                    SearchStore.Record(
                        id: id.rawValue, caption: item.caption, path: byID[id]?.path, metadata: item.metadata,
                        has_caption: caption != nil, has_image: image != nil),
                    caption, image
                )
            }
            try store.append(entries)
            indexed += entries.count
            start += slice.count
            progress.update(done: start)
        }
        progress.finish()
        print("Indexed \(indexed) new pictures; the store holds \(done.count + indexed). Skipped \(skipped.count).")
        for (path, error) in skipped { print("  skipped \(path): \(error)") }
    }
}

/// A progress bar on a terminal, plain lines otherwise.
final class Progress {
    let total: Int
    let start = Date()
    let isTerminal = isatty(STDOUT_FILENO) != 0
    var lastPrinted = -1

    init(total: Int) { self.total = total }

    func update(done: Int) {
        let elapsed = max(Date().timeIntervalSince(start), 1e-6)
        let rate = Double(done) / elapsed
        let left = rate > 0 ? Double(total - done) / rate : 0
        if isTerminal {
            let width = 30
            let filled = total > 0 ? width * done / total : width
            let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
            print("\r[\(bar)] \(done)/\(total)  \(String(format: "%.1f", rate)) items/s  \(String(format: "%.0f", left))s left", terminator: "")
            fflush(nil)
        } else {
            let decile = total > 0 ? done * 10 / total : 10
            if decile != lastPrinted {
                lastPrinted = decile
                print("indexed \(done)/\(total) (\(String(format: "%.1f", rate)) items/s, \(String(format: "%.0f", left))s left)")
            }
        }
    }

    func clearLine() {
        if isTerminal {
            print("\r\u{1B}[K", terminator: "")
            fflush(nil)
        }
    }

    func finish() {
        if isTerminal { print("") }
    }
}
