import ArgumentParser
import Foundation
import MultimodalSearch

/// `mms info --store <dir>`.
struct InfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "What a store holds, and the last recovery that repaired anything.")

    @OptionGroup var options: StoreOptions

    @Flag(help: "Also check every byte of every vector segment against its checksum.")
    var verify = false

    func run() async throws {
        let (engine, collection) = try await options.open()
        let items = try collection.items()
        let categories = Set(items.compactMap(\.category))
        print("store \(collection.directory)")
        print("  items: \(items.count) in \(categories.count) categories")
        for field in collection.schema.fields {
            let vectors = collection.index(field.name)?.count ?? 0
            print("  \(field.name) vectors: \(vectors) from \(field.encoder) (\(field.dimension) dimensions, \(field.metric))")
        }
        let stats = engine.engagement.statistics
        print("  engagement: \(stats.items) items, \(stats.pairs) user-item pairs")
        print("  this open: " + collection.recovery.description.replacingOccurrences(of: "\n", with: "\n    "))
        let last = collection.directory + "/last-recovery.txt"
        if let text = try? String(contentsOfFile: last, encoding: .utf8) {
            print("  last recovery that repaired anything:\n    " + text.trimmingCharacters(in: .newlines).replacingOccurrences(of: "\n", with: "\n    "))
        } else {
            print("  no recovery has had to repair anything")
        }
        if verify {
            try collection.verify()
            print("  verified: every segment's bytes match their checksums")
        }
        for file in collection.files() { print("  \(file.name): \(file.bytes) bytes") }
        try collection.close()
    }
}
