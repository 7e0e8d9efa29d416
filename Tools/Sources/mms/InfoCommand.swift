import ArgumentParser
import Foundation
import MultimodalSearch

/// `mms info --store <dir>`.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "What a store holds.")

    @OptionGroup var options: StoreOptions

    func run() throws {
        let (engine, store, records) = try options.open(restoring: false)
        let categories = Set(records.compactMap { $0.metadata["category"] })
        print("store \(store.directory.path)")
        print("  items: \(records.count) in \(categories.count) categories")
        print("  captions embedded: \(records.filter(\.has_caption).count) with \(store.textEncoder) (\(store.textDimension) dimensions)")
        if let image = store.imageEncoder {
            print("  pictures embedded: \(records.filter(\.has_image).count) with \(image) (\(store.imageDimension ?? 0) dimensions)")
        } else {
            print("  pictures embedded: none (no CLIP weights when indexed)")
        }
        let stats = engine.engagement.statistics
        print("  engagement: \(stats.items) items, \(stats.pairs) user-item pairs")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: store.directory.path)) ?? []
        for file in files.sorted() {
            let size = (try? FileManager.default.attributesOfItem(atPath: store.directory.appendingPathComponent(file).path)[.size] as? Int) ?? 0
            print("  \(file): \(size) bytes")
        }
    }
}
