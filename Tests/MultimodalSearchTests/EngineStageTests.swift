import ANNIndex
import Foundation
import Ranking
import SearchCore
import Testing
import _TestSupport

@testable import MultimodalSearch

/// The engine's stages on the deterministic hashing encoder: no model file needed.
@Suite("Search engine stages")
struct EngineStageTests {
    static let captions = [
        "a green frog on a leaf", "a red sports car", "a yellow school bus", "a loaf of fresh bread",
        "a red apple on a table", "a sleeping grey cat", "a happy brown dog", "a blue bicycle",
    ]

    static func items() -> [CatalogItem] {
        captions.enumerated().map { CatalogItem(id: VectorID(UInt64($0.offset)), caption: $0.element, category: "c\($0.offset % 2)") }
    }

    static func configuration(
        makeIndex: @escaping @Sendable (VectorField) throws(SearchError) -> any VectorIndex = { f in
            try HNSWIndex(dimension: f.dimension, metric: f.metric)
        }
    ) -> SearchEngine.Configuration {
        SearchEngine.Configuration(textEncoder: HashingTextEncoder(dimension: 64), textEncoderName: "hashing:64", makeIndex: makeIndex)
    }

    @Test("captions are found by their words; the item comes back with its fields")
    func captionSearch() throws {
        let engine = try SearchEngine(configuration: Self.configuration())
        let report = try engine.ingest(Self.items())
        #expect(report.indexed.count == 8 && report.skipped.isEmpty)
        let results = try engine.search(SearchQuery(text: "frog leaf", k: 3))
        #expect(results.first?.id == 0)
        #expect(results.first?.item.category == "c0")
        #expect(results.first?.explanation["fusion"] != nil && results.first?.explanation["engagement"] == 0)
    }

    @Test("each retriever is scored by its own index's metric")
    func scoresFollowTheMetric() throws {
        let engine = try SearchEngine(
            configuration: Self.configuration { f throws(SearchError) in FlatIndex(dimension: f.dimension, metric: .squaredL2) })
        _ = try engine.ingest(Self.items())
        let top = try #require(try engine.search(SearchQuery(text: "a red sports car", k: 1)).first)
        // Unit vectors of identical text: squared L2 distance 0, so the score is −0, not the 1 an inner product would give.
        #expect(top.id == 1)
        #expect(abs(try #require(top.explanation["caption"])) < 1e-5)
        let second = try engine.search(SearchQuery(text: "a red sports car", k: 2))[1]
        #expect(try #require(second.explanation["caption"]) < 0)
    }

    @Test("query embeddings go to their own bounded cache and never push out catalogue embeddings")
    func queryCacheIsSeparate() throws {
        var configuration = Self.configuration()
        configuration.queryCacheCapacity = 4
        let engine = try SearchEngine(configuration: configuration)
        _ = try engine.ingest(Self.items())
        #expect(engine.cache.count == 8)
        for i in 0..<20 { _ = try engine.search(SearchQuery(text: "query number \(i)", k: 1)) }
        #expect(engine.cache.count == 8)
        #expect(engine.queryCache.count == 4)
    }

    @Test("the query cache drops the least recently used entry")
    func leastRecentlyUsed() {
        let cache = QueryEmbeddingCache(capacity: 2)
        cache.store([1], for: "a")
        cache.store([2], for: "b")
        #expect(cache.embedding(for: "a") == [1])  // a is now the most recent
        cache.store([3], for: "c")  // evicts b
        #expect(cache.embedding(for: "b") == nil)
        #expect(cache.embedding(for: "a") == [1] && cache.embedding(for: "c") == [3])
        cache.store([4], for: "a")
        #expect(cache.count == 2 && cache.embedding(for: "a") == [4])
    }

    @Test("engagement is a ranking stage: saves lift an item, a user's hide removes it for that user only")
    func engagementStage() throws {
        let engine = try SearchEngine(configuration: Self.configuration())
        _ = try engine.ingest(Self.items())
        let query = SearchQuery(text: "a red thing", k: 8)
        let before = try engine.search(query)
        let last = try #require(before.last)
        let now = Date()
        try engine.record((0..<30).flatMap { _ in
            [EngagementEvent(item: last.id, kind: .impression, time: now), EngagementEvent(item: last.id, kind: .save, time: now)]
        })
        let after = try engine.search(query)
        let rank = try #require(after.firstIndex { $0.id == last.id })
        #expect(rank < before.count - 1)
        #expect(after[rank].explanation["engagement"].map { $0 > 0 } == true)
        try engine.record(EngagementEvent(item: after[0].id, user: UserID("ada"), kind: .hide, time: now))
        #expect(try !engine.search(SearchQuery(text: "a red thing", k: 8, userID: "ada")).contains { $0.id == after[0].id })
        #expect(try engine.search(SearchQuery(text: "a red thing", k: 8, userID: "bob")).contains { $0.id == after[0].id })
    }

    @Test("async ingest stops between batches with .cancelled; async search checks too")
    func cancellation() async throws {
        var configuration = Self.configuration()
        configuration.batchSize = 2
        let engine = try SearchEngine(configuration: configuration)
        let task = Task { () async throws(SearchError) -> IngestReport in
            withUnsafeCurrentTask { $0?.cancel() }
            return try await engine.ingest(Self.items())
        }
        let result = await task.result
        guard case .failure(let failure) = result else {
            Issue.record("a cancelled ingest returned normally")
            return
        }
        #expect((failure as? SearchError)?.code == .cancelled)
        #expect(engine.count == 0)
        let report = try await engine.ingest(Self.items())
        #expect(report.indexed.count == 8)
        let search = Task { () async throws(SearchError) -> [SearchResult] in
            withUnsafeCurrentTask { $0?.cancel() }
            return try await engine.search(SearchQuery(text: "frog", k: 1))
        }
        guard case .failure(let searchFailure) = await search.result else {
            Issue.record("a cancelled search returned normally")
            return
        }
        #expect((searchFailure as? SearchError)?.code == .cancelled)
        #expect(try await engine.search(SearchQuery(text: "a green frog on a leaf", k: 1)).first?.id == 0)
    }

    @Test("concurrent searches and engagement while another task ingests and removes through a collection")
    func concurrentUseOfACollection() async throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let configuration = Self.configuration()
        var options = SearchCollection.Options()
        options.headVectors = 50
        options.checkpointLogBytes = 8_192
        let collection = try SearchCollection(directory: dir.path, schema: SearchEngine.schema(for: configuration), options: options)
        let engine = try SearchEngine(configuration: configuration, collection: collection)
        _ = try await engine.ingest(Self.items())
        let words = ["frog", "car", "bus", "bread", "apple", "cat", "dog", "bicycle"]
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for round in 0..<20 {
                    let batch = (0..<10).map { i in
                        CatalogItem(id: VectorID(UInt64(100 + round * 10 + i)), caption: "a \(words[i % 8]) number \(round)")
                    }
                    _ = try await engine.ingest(batch)
                    if round % 3 == 2 { try engine.remove(batch.prefix(3).map(\.id)) }
                }
            }
            for reader in 0..<2 {
                group.addTask {
                    for i in 0..<60 {
                        let results = try await engine.search(SearchQuery(text: "a \(words[(i + reader) % 8])", k: 5))
                        #expect(!results.isEmpty)
                        try engine.record(EngagementEvent(item: results[0].id, kind: .click, time: Date()))
                    }
                }
            }
            try await group.waitForAll()
        }
        // 8 + 200 ingested, 3 removed in each of rounds 2, 5, 8, 11, 14, 17.
        #expect(engine.count == 8 + 200 - 18)
        try collection.close()
        let reopened = try SearchCollection(directory: dir.path, schema: SearchEngine.schema(for: configuration), options: options)
        #expect(reopened.count == 190)
        #expect(reopened.index(VectorField.caption)?.count == 190)
        #expect(reopened.engagement.statistics.items > 0)
    }

    @Test("an engine over a collection: what it ingests, removes and records is there after reopening")
    func durableEngine() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let configuration = Self.configuration()
        do {
            let collection = try SearchCollection(directory: dir.path, schema: SearchEngine.schema(for: configuration))
            let engine = try SearchEngine(configuration: configuration, collection: collection)
            _ = try engine.ingest(Self.items())
            #expect(try engine.remove([2]) == 1)
            try engine.record(EngagementEvent(item: 4, user: UserID("ada"), kind: .hide, time: Date()))
            // Not closed: a crash here must lose nothing acknowledged.
        }
        let collection = try SearchCollection(directory: dir.path, schema: SearchEngine.schema(for: configuration))
        let engine = try SearchEngine(configuration: configuration, collection: collection)
        #expect(engine.count == 7)
        #expect(try engine.search(SearchQuery(text: "school bus", k: 8)).allSatisfy { $0.id != 2 })
        #expect(try engine.search(SearchQuery(text: "a green frog on a leaf", k: 1)).first?.id == 0)
        #expect(try !engine.search(SearchQuery(text: "red apple", k: 8, userID: "ada")).contains { $0.id == 4 })
        try collection.close()

        var other = configuration
        other.textEncoderName = "another-model"
        let reopened = try SearchCollection(directory: dir.path, schema: SearchEngine.schema(for: configuration))
        let error = try #require(throws: SearchError.self) { try SearchEngine(configuration: other, collection: reopened) }
        #expect(error.message.contains("re-embed"))
    }
}
