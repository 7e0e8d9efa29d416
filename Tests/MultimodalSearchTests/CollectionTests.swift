import ANNIndex
import Foundation
import Ranking
import SearchCore
import Testing
import _TestSupport

@testable import MultimodalSearch

/// A fresh directory, removed when the test is done with it.
struct ScratchDirectory {
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("mms-collection-\(UUID().uuidString)").path
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

@Suite("A durable collection")
struct CollectionTests {
    static let schema = CollectionSchema(fields: [
        VectorField(name: "caption", encoder: "hashing:16", dimension: 16),
        VectorField(name: "image", encoder: "pixels:8", dimension: 8),
    ])

    /// Unit rows of `dimension` floats for ids, seeded by the id so a row can be recomputed.
    static func rows(_ ids: [VectorID], dimension: Int) -> FieldRows {
        var out: [Float] = []
        for id in ids {
            var rng = SeededGenerator(seed: id.rawValue &* 31 &+ UInt64(dimension))
            var row = (0..<dimension).map { _ in Float.random(in: -1...1, using: &rng) }
            let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
            row = row.map { $0 / norm }
            out += row
        }
        return FieldRows(ids: ids, rows: out)
    }

    static func items(_ range: Range<UInt64>) -> [CatalogItem] {
        range.map { i in
            CatalogItem(
                id: VectorID(i), caption: "item \(i)", image: i % 2 == 0 ? .file("/pictures/\(i).jpg") : nil,
                category: i % 3 == 0 ? "even-thirds" : nil, tags: i % 5 == 0 ? ["five", "ñandú 🦤"] : [],
                metadata: ["n": String(i)])
        }
    }

    /// Adds items with a caption vector each and a picture vector for the even ones.
    static func add(_ items: [CatalogItem], to collection: SearchCollection) throws {
        let ids = items.map(\.id)
        try collection.add(
            items,
            vectors: ["caption": rows(ids, dimension: 16), "image": rows(ids.filter { $0.rawValue % 2 == 0 }, dimension: 8)])
    }

    @Test("items, vectors and engagement survive close and reopen, and opening rebuilds no graph")
    func reopenWithoutRebuild() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let written = Self.items(0..<300)
        do {
            let collection = try SearchCollection(directory: dir.path, schema: Self.schema)
            try Self.add(written, to: collection)
            try collection.record([EngagementEvent(item: 7, user: UserID("ada"), kind: .save, time: Date(timeIntervalSince1970: 1_000))])
            #expect(collection.count == 300)
            try collection.close()
            #expect(throws: SearchError.self) { try collection.remove([1]) }
        }
        let reopened = try SearchCollection(directory: dir.path, schema: Self.schema)
        #expect(reopened.recovery.isClean)
        #expect(reopened.recovery.logRecordsReplayed == 0)
        #expect(reopened.count == 300)
        let caption = try #require(reopened.index("caption"))
        // Everything is in mapped segments: the in-memory heads are empty.
        #expect(caption.memory.head < 4_096 && caption.segmentCount >= 1)
        #expect(try reopened.items() == written)
        #expect(try reopened.item(42) == written[42])
        #expect(try reopened.item(1_000) == nil)
        let query = Self.rows([123], dimension: 16).rows
        #expect(try caption.search(query, k: 1).first?.id == 123)
        #expect(try #require(reopened.index("image")).count == 150)
        #expect(reopened.engagement.counts(user: UserID("ada"), item: 7, at: Date(timeIntervalSince1970: 1_000))[.save] == 1)
    }

    @Test("a write not followed by close is replayed from the log; removals and replacements hold")
    func replayAfterCrash() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        do {
            let collection = try SearchCollection(directory: dir.path, schema: Self.schema)
            try Self.add(Self.items(0..<50), to: collection)
            try collection.checkpoint()
            try Self.add(Self.items(50..<80), to: collection)
            #expect(try collection.remove([3, 4, 1_000]) == 2)
            var replaced = Self.items(10..<11)[0]
            replaced.caption = "replaced"
            try collection.add([replaced], vectors: ["caption": Self.rows([10], dimension: 16)])  // no picture now
            // No close: as if the process were killed here.
        }
        let reopened = try SearchCollection(directory: dir.path, schema: Self.schema)
        #expect(reopened.recovery.generation == 1)
        #expect(reopened.recovery.logRecordsReplayed == 3)
        #expect(reopened.count == 78)
        #expect(try reopened.item(3) == nil)
        #expect(try reopened.item(10)?.caption == "replaced")
        #expect(try reopened.item(79)?.caption == "item 79")
        let image = try #require(reopened.index("image"))
        #expect(!image.contains(10) && !image.contains(4) && image.contains(12))
    }

    @Test("items whose vectors never reached the index are removed on open and reported")
    func interruptedWrite() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        do {
            let collection = try SearchCollection(directory: dir.path, schema: Self.schema)
            try Self.add(Self.items(0..<10), to: collection)
            // What a crash between logging items and indexing their vectors leaves.
            let orphan = StoredItem(item: CatalogItem(id: 99, caption: "never indexed"), vectorFields: 0b01)
            try collection.writer.withLock { _ throws(SearchError) in try collection.commit(.put([orphan])) { $0.count += 1 } }
        }
        let reopened = try SearchCollection(directory: dir.path, schema: Self.schema)
        #expect(reopened.recovery.interruptedItems == [99])
        #expect(!reopened.recovery.isClean)
        #expect(try reopened.item(99) == nil)
        #expect(reopened.count == 10)
        let report = try String(contentsOfFile: dir.path + "/last-recovery.txt", encoding: .utf8)
        #expect(report.contains("interrupted") && report.contains("99"))
    }

    @Test("another encoder is refused with a message that says how to re-embed")
    func otherEncoder() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        try SearchCollection(directory: dir.path, schema: Self.schema).close()
        var other = Self.schema
        other.fields[0].encoder = "bert:other:16"
        let error = try #require(throws: SearchError.self) { try SearchCollection(directory: dir.path, schema: other) }
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("hashing:16") && error.message.contains("re-embed"))
    }

    @Test("bad writes are refused before anything is written")
    func badWrites() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let collection = try SearchCollection(directory: dir.path, schema: Self.schema)
        let item = CatalogItem(id: 1, caption: "x")
        #expect(throws: SearchError.self) { try collection.add([item], vectors: ["colour": Self.rows([1], dimension: 16)]) }
        #expect(throws: SearchError.self) { try collection.add([item], vectors: ["caption": Self.rows([1], dimension: 8)]) }
        #expect(throws: SearchError.self) { try collection.add([item], vectors: ["caption": Self.rows([2], dimension: 16)]) }
        #expect(throws: SearchError.self) { try collection.add([item, item], vectors: [:]) }
        var nan = Self.rows([1], dimension: 16)
        nan.rows[3] = .nan
        let error = try #require(throws: SearchError.self) { try collection.add([item], vectors: ["caption": nan]) }
        #expect(error.code == .invalidVector)
        #expect(collection.count == 0)
        #expect(try collection.item(1) == nil)
    }

    @Test("a damaged item snapshot is a typed error naming the file, not an empty collection")
    func damagedSnapshot() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let collection = try SearchCollection(directory: dir.path, schema: Self.schema)
        try Self.add(Self.items(0..<20), to: collection)
        try collection.close()
        let path = dir.path + "/items-000001.snapshot"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: SearchError.self) { try SearchCollection(directory: dir.path, schema: Self.schema) }
        #expect(error.code == .corruptData)
        #expect(error.message.contains("items-000001.snapshot"))
    }

    @Test("damage to the collection's log: a torn tail is cut and reported, a damaged record is an error unless dropping is asked for")
    func damagedLog() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        do {
            let collection = try SearchCollection(directory: dir.path, schema: Self.schema)
            try Self.add(Self.items(0..<10), to: collection)
            try Self.add(Self.items(10..<20), to: collection)
        }
        let log = URL(fileURLWithPath: dir.path + "/log-000000.wal")
        let whole = [UInt8](try Data(contentsOf: log))

        // A torn tail: half of a record appended by a write that never returned.
        try Data(whole + Array(whole[16..<60])).write(to: log)
        let torn = try SearchCollection(directory: dir.path, schema: Self.schema)
        #expect(torn.count == 20)
        #expect(torn.recovery.logRepairs.count == 1 && !torn.recovery.isClean)
        try torn.close()

        // A flipped byte inside the last, complete record (an acknowledged write): refused, then dropped on request.
        do {
            let collection = try SearchCollection(directory: dir.path, schema: Self.schema)
            try Self.add(Self.items(20..<30), to: collection)
        }
        let logPath = try #require(
            try FileManager.default.contentsOfDirectory(atPath: dir.path).first { $0.hasPrefix("log-") })
        let url = URL(fileURLWithPath: dir.path + "/" + logPath)
        var bytes = [UInt8](try Data(contentsOf: url))
        bytes[bytes.count - 5] ^= 0x01
        try Data(bytes).write(to: url)
        let error = try #require(throws: SearchError.self) { try SearchCollection(directory: dir.path, schema: Self.schema) }
        #expect(error.code == .corruptData && error.message.contains(logPath))
        var options = SearchCollection.Options()
        options.recoveryPolicy = .dropDamagedRecords
        let dropped = try SearchCollection(directory: dir.path, schema: Self.schema, options: options)
        #expect(dropped.recovery.logRepairs.first?.lowercased().contains("dropped") == true)
        #expect(try dropped.item(25) == nil && dropped.count == 20)
        // The vectors of the dropped write are still in the index; its items are gone, so searches pass them over.
        let strict = SearchCollection.Options(recoveryPolicy: .strict)
        try dropped.close()
        _ = try SearchCollection(directory: dir.path, schema: Self.schema, options: strict)
    }

    @Test("the log checkpoints by itself once it passes its size, and old generations are removed")
    func automaticCheckpoint() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        var options = SearchCollection.Options()
        options.checkpointLogBytes = 4_096
        options.headVectors = 64
        let collection = try SearchCollection(directory: dir.path, schema: Self.schema, options: options)
        for start in stride(from: UInt64(0), to: 400, by: 40) { try Self.add(Self.items(start..<(start + 40)), to: collection) }
        let generation = collection.state.withLock { $0.generation }
        #expect(generation >= 2)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(names.filter { $0.hasPrefix("items-") }.count == 1)
        #expect(names.filter { $0.hasPrefix("log-") }.count == 1)
        let reopened = try SearchCollection(directory: dir.path, schema: Self.schema, options: options)
        #expect(reopened.count == 400)
        #expect(try reopened.items().map(\.id) == (0..<400).map { VectorID($0) })
    }

    @Test("a format-1 store is migrated once, its embeddings and engagement kept, its files moved aside")
    func migration() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let url = URL(fileURLWithPath: dir.path)
        let store = try SearchStore(directory: url, textEncoder: "hashing:16", textDimension: 16)
        let rows = Self.rows((0..<12).map { VectorID($0) }, dimension: 16).rows
        var entries: [(record: SearchStore.Record, caption: [Float]?, image: [Float]?)] = []
        for i in 0..<12 {
            let record = SearchStore.Record(
                id: UInt64(i), caption: "old \(i)", path: "/p/\(i).png", metadata: ["category": "c\(i % 2)", "file": "\(i).png"],
                has_caption: true, has_image: false)
            entries.append((record, Array(rows[(i * 16)..<((i + 1) * 16)]), nil))
        }
        try store.append(entries)
        let engagement = EngagementStore()
        engagement.record(EngagementEvent(item: 5, kind: .click, time: Date(timeIntervalSince1970: 50)))
        try store.saveEngagement(engagement)

        let schema = CollectionSchema(fields: [VectorField(name: "caption", encoder: "hashing:16", dimension: 16)])
        let refused = try #require(throws: SearchError.self) { try SearchCollection(directory: dir.path, schema: schema) }
        #expect(refused.message.contains("migrate"))
        #expect(SearchCollection.holdsLegacyStore(dir.path))
        #expect(try SearchCollection.migrate(legacyStore: dir.path, schema: schema) == 12)
        #expect(!SearchCollection.holdsLegacyStore(dir.path))
        #expect(FileManager.default.fileExists(atPath: dir.path + "/format1-backup/items.jsonl"))

        let collection = try SearchCollection(directory: dir.path, schema: schema)
        #expect(collection.count == 12)
        let item = try #require(try collection.item(7))
        #expect(item.caption == "old 7")
        #expect(item.category == "c1")
        #expect(item.metadata == ["file": "7.png"])
        #expect(item.image == .file("/p/7.png"))
        #expect(try collection.index("caption")!.search(Array(rows[(7 * 16)..<(8 * 16)]), k: 1).first?.id == 7)
        #expect(collection.engagement.counts(item: 5, at: Date(timeIntervalSince1970: 50))[.click] == 1)
    }

    @Test("hostile bytes: every flip or cut of a snapshot is refused; mutated log payloads decode or throw, never trap")
    func hostileBytes() throws {
        let items = Self.items(0..<6)
        let snapshot = ItemSnapshot.encode(Dictionary(uniqueKeysWithValues: items.map { ($0.id, StoredItem(item: $0, vectorFields: 1)) }))
        for i in 0..<snapshot.count {
            var damaged = snapshot
            damaged[i] ^= 0x10
            #expect(throws: SearchError.self) { _ = try ItemSnapshot(bytes: damaged, path: "memory") }
        }
        // The log's checksum guards its records, but a crafted file can carry any payload with a
        // valid checksum: decoding must end in a record or a SearchError whatever the bytes.
        let payloads = [
            CollectionLogRecord.put(items.map { StoredItem(item: $0, vectorFields: 3) }).encoded(),
            CollectionLogRecord.remove([1, 2, 3]).encoded(),
            CollectionLogRecord.engagement([EngagementEvent(item: 4, user: UserID("u"), kind: .click, time: Date(timeIntervalSince1970: 9))]).encoded(),
        ]
        var rng = SeededGenerator(seed: 11)
        var decoded = 0
        for payload in payloads {
            #expect(throws: Never.self) { _ = try CollectionLogRecord.decode(payload, source: "memory") }
            for _ in 0..<3_000 {
                var mutated = payload
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    switch Int.random(in: 0..<3, using: &rng) {
                    case 0: mutated[Int.random(in: 0..<mutated.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                    case 1: mutated = Array(mutated.prefix(Int.random(in: 0...mutated.count, using: &rng)))
                    default: mutated.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...mutated.count, using: &rng))
                    }
                    if mutated.isEmpty { break }
                }
                if (try? CollectionLogRecord.decode(mutated, source: "memory")) != nil { decoded += 1 }
            }
        }
        #expect(decoded > 0, "some mutations (a changed character, a changed id) still decode")
    }

    @Test("the item snapshot decodes every field, and rejects a bad presence byte")
    func itemCoding() throws {
        let item = CatalogItem(
            id: 9, caption: "", image: .file("/a b/ç.png"), category: "x", tags: ["", "t"], metadata: ["k": "v", "": ""])
        let bytes = ItemSnapshot.encode([9: StoredItem(item: item, vectorFields: 3), 2: StoredItem(item: CatalogItem(id: 2), vectorFields: 0)])
        let snapshot = try ItemSnapshot(bytes: bytes, path: "memory")
        #expect(snapshot.count == 2)
        #expect(try snapshot.item(at: try #require(snapshot.position(of: 9))) == StoredItem(item: item, vectorFields: 3))
        #expect(try snapshot.item(at: 0).item.id == 2)
        #expect(snapshot.position(of: 5) == nil)
        for cut in [0, 10, bytes.count - 1] {
            #expect(throws: SearchError.self) { _ = try ItemSnapshot(bytes: Array(bytes.prefix(cut)), path: "memory") }
        }
    }
}
