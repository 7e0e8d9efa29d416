// `crash-test --collection`: a child process drives a SearchCollection through
// a fixed sequence of operations — add 4 items (a caption vector each, a picture
// vector for the even ones), remove the items added three operations before,
// record engagement — printing "ack N" after each returns, with a small head and
// log so kills also land in flushes and checkpoints. The parent kills it with
// SIGKILL at a random moment, reopens the collection, and checks that every
// acknowledged operation holds whole: items, vectors in both fields, removals
// and engagement; that no add is half there; and that the only items opening
// reports as interrupted belong to the one operation in flight.
//
// With --keywords the collection also keeps its BM25 keyword index
// (`keywords/`, a LexicalIndex with a small head, so kills land in its
// flushes too), and each add gives every item a word of its own; the check
// then also asks that every surviving item is in the keyword index and found
// by its word, that no removed or lost item is, and that the keyword index
// holds exactly the collection's items.

import ANNIndex
import Foundation
import LexicalIndex
import MultimodalSearch
import Ranking
import SearchCore

#if canImport(Glibc)
import Glibc
#endif

enum CollectionCrash {
    static let schema = CollectionSchema(fields: [
        VectorField(name: "caption", encoder: "crash-test", dimension: indexDimension, metric: .squaredL2),
        VectorField(name: "image", encoder: "crash-test", dimension: indexDimension, metric: .squaredL2),
    ])
    static let eventTime = Date(timeIntervalSince1970: 1_000_000_000)

    static func options(keywords: Bool) -> SearchCollection.Options {
        var options = SearchCollection.Options()
        options.headVectors = 40
        options.checkpointLogBytes = 6_000
        if keywords {
            options.keywordIndex = { directory, policy throws(SearchError) -> any KeywordRetriever in
                var lexical = LexicalIndex.Options(headDocuments: 24, maximumSegments: 3)
                if case .dropDamagedRecords = policy { lexical.dropDamagedLogRecords = true }
                return LexicalKeywordIndex(
                    try LexicalIndex(directory: directory, configuration: .init(fields: LexicalKeywordIndex.fields), options: lexical))
            }
        }
        return options
    }

    /// The word only item `id`'s keyword document holds.
    static func word(_ id: VectorID) -> String { "w\(id.rawValue)x" }

    enum Operation {
        case add([VectorID])
        case remove([VectorID])
        case engagement(VectorID)
    }

    /// Operation `n`: adds on 0, 1, 2 (mod 5), on 3 the removal of operation n − 3's items, on 4 engagement.
    static func operation(_ n: Int) -> Operation {
        switch n % 5 {
        case 3: .remove(ids(n - 3))
        case 4: .engagement(VectorID(UInt64(n)))
        default: .add(ids(n))
        }
    }

    static func ids(_ n: Int) -> [VectorID] { (0..<4).map { VectorID(UInt64(n * 4 + $0)) } }

    static func child(directory: String, first: Int, keywords: Bool) throws {
        let collection = try SearchCollection(directory: directory, schema: schema, options: options(keywords: keywords))
        var n = first
        while true {
            switch operation(n) {
            case .add(let ids):
                let items = ids.map { CatalogItem(id: $0, caption: "item \($0)", category: "op \(n)") }
                let pictured = ids.filter { $0.rawValue % 2 == 0 }
                try collection.add(
                    items,
                    vectors: [
                        "caption": FieldRows(ids: ids, rows: ids.flatMap { vector(Int($0.rawValue)) }),
                        "image": FieldRows(ids: pictured, rows: pictured.flatMap { vector(Int($0.rawValue) + 1_000_000) }),
                    ],
                    keywords: keywords
                        ? ids.map { KeywordDocument(id: $0, fields: [KeywordField.caption: "item \($0) \(word($0))"]) } : nil)
            case .remove(let ids):
                try collection.remove(ids)
            case .engagement(let item):
                try collection.record([EngagementEvent(item: item, user: UserID("crash"), kind: .save, time: eventTime)])
            }
            print("ack \(n)")
            fflush(nil)
            n += 1
        }
    }

    /// Opens the collection after a kill and checks it against every operation up to `acknowledged`.
    static func check(_ directory: String, acknowledged: Int, keywords: Bool) throws -> Bool {
        let collection = try SearchCollection(directory: directory, schema: schema, options: options(keywords: keywords))
        let caption = collection.index("caption")!, image = collection.index("image")!
        let lexical = collection.keywords
        var ok = true
        func fail(_ why: String) {
            print(why)
            ok = false
        }
        let inFlight = acknowledged + 1
        let allowedInterrupted = Set(ids(inFlight))
        for id in collection.recovery.interruptedItems where !allowedInterrupted.contains(id) {
            fail("item \(id) was reported interrupted but its operation was acknowledged")
        }
        var removed = Set<VectorID>()
        for n in stride(from: 0, through: inFlight, by: 1) {
            if case .remove(let ids) = operation(n), n <= acknowledged { removed.formUnion(ids) }
        }
        // The operation in flight may have happened: a removal of items it names is allowed.
        var mayBeRemoved = Set<VectorID>()
        if case .remove(let ids) = operation(inFlight) { mayBeRemoved.formUnion(ids) }
        for n in stride(from: 0, through: inFlight, by: 1) {
            switch operation(n) {
            case .add(let ids):
                let live = ids.filter { !removed.contains($0) }
                let present = try live.filter { try collection.item($0) != nil }
                if n <= acknowledged, present.count != live.count, !(present.isEmpty && live.allSatisfy(mayBeRemoved.contains)) {
                    fail("operation \(n): \(present.count) of \(live.count) items survived")
                }
                if !present.isEmpty && present.count != live.count { fail("operation \(n) is half there") }
                if let lexical {
                    for id in live where !present.contains(id) && lexical.contains(id) {
                        fail("item \(id) is not in the collection but is in its keyword index")
                    }
                    for id in present {
                        guard lexical.contains(id) else {
                            fail("item \(id) is in the collection but not in its keyword index")
                            continue
                        }
                        if n % 8 == 0 || n + 6 > acknowledged,
                            try lexical.search(word(id), k: 2, filter: NoFilter()).map(\.id) != [id]
                        {
                            fail("item \(id)'s word does not find it (alone) in the keyword index")
                        }
                    }
                }
                for id in present {
                    if try collection.item(id)?.caption != "item \(id)" { fail("item \(id) has the wrong caption") }
                    if !caption.contains(id) { fail("item \(id) has no caption vector") }
                    if image.contains(id) != (id.rawValue % 2 == 0) { fail("item \(id)'s picture vector is wrong") }
                }
                if let probe = present.first, n % 16 == 0 || n + 6 > acknowledged,
                    try caption.search(vector(Int(probe.rawValue)), k: 1).first?.id != probe
                {
                    fail("item \(probe)'s caption vector does not find itself")
                }
            case .remove(let ids):
                guard n <= acknowledged else { continue }
                for id in ids where try collection.item(id) != nil || caption.contains(id) || image.contains(id) || lexical?.contains(id) == true {
                    fail("item \(id), removed by operation \(n), is still there")
                }
            case .engagement(let item):
                guard n <= acknowledged else { continue }
                if collection.engagement.counts(item: item, at: eventTime)[.save] < 1 { fail("the save recorded by operation \(n) is lost") }
            }
        }
        if caption.count != collection.count { fail("\(collection.count) items but \(caption.count) caption vectors") }
        if let lexical, lexical.count != collection.count {
            fail("\(collection.count) items but \(lexical.count) documents in the keyword index")
        }
        return ok
    }

    static func parent(iterations: Int, seed: UInt64, keywords: Bool) throws -> Bool {
        var seeded = seed
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mms-crash-collection-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var acknowledged = -1
        var failures = 0
        var checkpoints = 0
        for iteration in 1...iterations {
            seeded = seeded &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            acknowledged = try runAndKill(
                ["collection-child", folder.path, String(acknowledged + 1)] + (keywords ? ["--keywords"] : []), after: UInt32(30_000 + (seeded >> 33) % 250_000),
                previous: acknowledged)
            if try !check(folder.path, acknowledged: acknowledged, keywords: keywords) {
                failures += 1
                print("run \(iteration): FAILED (highest acknowledged operation \(acknowledged))")
            }
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            checkpoints = names.compactMap { $0.hasPrefix("items-") ? Int($0.dropFirst(6).prefix(6)) : nil }.max() ?? checkpoints
        }
        let what = keywords ? "collection with keywords" : "collection"
        print("crash test (\(what)): \(iterations - failures) of \(iterations) kill -9 runs kept every acknowledged operation (\(acknowledged + 1) acknowledged: adds, removals, engagement\(keywords ? ", keyword documents" : ""); \(checkpoints) checkpoints)")
        return failures == 0
    }
}
