import ArgumentParser
import Foundation
import ImageDecoding
import MultimodalSearch
import SearchCore

#if canImport(Glibc)
import Glibc
#endif

/// `mms index <folder> --store <dir>`.
struct IndexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Index every JPEG and PNG under a folder into a store; resumes an interrupted run.")

    @Argument(help: "The folder to index (searched recursively).")
    var folder: String

    @OptionGroup var options: StoreOptions

    @Option(help: "Items per encoder batch.")
    var batch: Int = 32

    @Flag(help: "Also read the text inside each picture (Tesseract) into the keyword field pictureText, so a search finds a picture by the words written in it. Bounded per picture: 4096×4096 pixels and 10 s; a picture over a bound is indexed without its text, with a warning.")
    var ocr = false

    @Option(help: "Tesseract languages for --ocr, e.g. eng or eng+deu. Default: every installed one.")
    var ocrLanguages: String?

    func run() async throws {
        let catalog = try FolderCatalog(root: URL(fileURLWithPath: folder))
        var extractor: TesseractTextExtractor?
        if ocr {
            extractor = try TesseractTextExtractor(languages: ocrLanguages.map { $0.split(separator: "+").map(String.init) })
            print("Reading text inside pictures with Tesseract \(TesseractTextExtractor.version) (\(extractor!.languages.joined(separator: "+"))).")
        }
        let (engine, collection) = try await options.open(ocr: extractor)
        let existing = try collection.items()
        let done = Set(existing.compactMap { $0.metadata["file"] })
        var nextID = (existing.map(\.id.rawValue).max() ?? 0) + (existing.isEmpty ? 0 : 1)
        let pending = catalog.entries.filter { !done.contains($0.relativePath) }
        if options.clip == nil {
            print("No CLIP weights (--clip DIR): pictures are checked but not embedded; search is by caption text.")
        }
        print("\(catalog.entries.count) pictures under \(catalog.root.path); \(done.count) already in \(options.store); \(pending.count) to index.")
        let progress = Progress(total: pending.count)
        var skipped: [(String, SearchError)] = []
        var indexed = 0
        var withText = 0
        var start = 0
        while start < pending.count {
            let slice = pending[start..<min(start + max(1, batch), pending.count)]
            var paths: [VectorID: String] = [:]
            var items: [CatalogItem] = []
            for entry in slice {
                let id = VectorID(nextID)
                nextID += 1
                paths[id] = entry.relativePath
                items.append(
                    CatalogItem(
                        id: id, caption: entry.caption, image: .file(entry.path), category: entry.category,
                        metadata: ["file": entry.relativePath]))
            }
            let report = try await engine.ingest(items)  // durable when it returns
            for (id, error) in report.skipped {
                let path = paths[id] ?? "\(id)"
                progress.clearLine()
                FileHandle.standardError.write(Data("warning: skipped \(path): \(error)\n".utf8))
                skipped.append((path, error))
            }
            for (id, error) in report.pictureTextErrors {
                progress.clearLine()
                FileHandle.standardError.write(Data("warning: no text read from \(paths[id] ?? "\(id)"): \(error)\n".utf8))
            }
            withText += report.pictureText.count
            indexed += report.indexed.count
            start += slice.count
            progress.update(done: start)
        }
        try collection.close()
        progress.finish()
        print("Indexed \(indexed) new pictures; the store holds \(collection.count). Skipped \(skipped.count).")
        if ocr { print("Text found inside \(withText) of the new pictures.") }
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
