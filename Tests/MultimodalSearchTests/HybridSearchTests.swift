import ANNIndex
import Evaluation
import Foundation
import Ranking
import SearchCore
import Synchronization
import Testing
import _TestSupport

@testable import MultimodalSearch

/// The keyword retriever beside the vector retrievers: fusion, per-query
/// weights, keyword scores and matched terms on results, cut-offs, and the
/// collection keeping the keyword index under its checkpoint discipline.
@Suite("Hybrid search")
struct HybridSearchTests {
    static let items: [CatalogItem] = [
        CatalogItem(id: 1, caption: "brass floor lamp with linen shade", tags: ["lighting"]),
        CatalogItem(id: 2, caption: "oak dining table", image: .file("/photos/table-XK9921.jpg")),
        CatalogItem(id: 3, caption: "linen curtains in sand", tags: ["textiles", "brass"]),
        CatalogItem(id: 4, caption: "a ceramic vase"),
        CatalogItem(id: 5, caption: "floor cushion, wool"),
        CatalogItem(id: 6, caption: "steel desk lamp"),
    ]

    static func engine(keywords: FakeKeywordIndex? = FakeKeywordIndex(), fusion: ScoreFusion = .reciprocalRank())
        throws -> SearchEngine
    {
        var configuration = SearchEngine.Configuration(
            textEncoder: HashingTextEncoder(dimension: 64), textEncoderName: "hashing:64",
            makeIndex: { f throws(SearchError) in FlatIndex(dimension: f.dimension, metric: f.metric) }, fusion: fusion)
        if let keywords {
            configuration.makeKeywordIndex = { () throws(SearchError) -> any KeywordRetriever in keywords }
        }
        let engine = try SearchEngine(configuration: configuration)
        // The picture is a path that does not exist: insert with a precomputed caption embedding instead of ingesting.
        for item in items {
            let v = try HashingTextEncoder(dimension: 64).embed(item.caption!).values
            try engine.insert(item, captionEmbedding: Array(v), imageEmbedding: nil)
        }
        return engine
    }

    @Test("a keyword hit carries its keyword score and the terms it matched, by field")
    func keywordScoreAndTerms() throws {
        let engine = try Self.engine()
        let results = try engine.search(SearchQuery(text: "brass lamp", k: 6))
        let lamp = try #require(results.first { $0.id == 1 })
        #expect(lamp.matchedTerms[KeywordField.caption] == ["brass", "lamp"])
        #expect(lamp.keywordScore == 2)
        #expect(lamp.explanation[SearchSource.keyword] == 2)
        #expect(lamp.explanation[SearchSource.caption] != nil)
        let curtains = try #require(results.first { $0.id == 3 })
        #expect(curtains.matchedTerms == [KeywordField.tags: ["brass"]])
        // Found by the caption retriever only: no keyword score, no matched terms.
        if let vase = results.first(where: { $0.id == 4 }) {
            #expect(vase.keywordScore == nil && vase.matchedTerms.isEmpty)
        }
    }

    @Test("the picture file's name is a keyword field: a partial SKU in it finds the item")
    func fileNameField() throws {
        let engine = try Self.engine()
        let top = try #require(try engine.search(SearchQuery(text: "table-xk9921.jpg", k: 1)).first)
        #expect(top.id == 2 && top.matchedTerms[KeywordField.fileName] == ["jpg", "table-xk9921"])
    }

    @Test("weights per query: a retriever weighted 0 is not asked; keywords alone rank by keyword score")
    func perQueryWeights() throws {
        let engine = try Self.engine()
        let keywordOnly = try engine.search(
            SearchQuery(text: "brass lamp", k: 6, fusion: .reciprocalRank(weights: [SearchSource.caption: 0])))
        #expect(keywordOnly.map(\.id) == [1, 6, 3])  // keyword scores 2, 1, 0.5
        #expect(keywordOnly.allSatisfy { $0.explanation[SearchSource.caption] == nil })
        let denseOnly = try engine.search(
            SearchQuery(text: "brass lamp", k: 6, fusion: .reciprocalRank(weights: [SearchSource.keyword: 0])))
        #expect(denseOnly.allSatisfy { $0.keywordScore == nil && $0.explanation[SearchSource.keyword] == nil })
        #expect(denseOnly.count == 6)
    }

    @Test("every fusion method combines the keyword list with the vector lists as CandidateSet.fused does")
    func fusionMethods() throws {
        let methods: [ScoreFusion] = [
            .reciprocalRank(), .reciprocalRank(k: 10, weights: [SearchSource.keyword: 3]),
            .weighted(weights: [SearchSource.keyword: 2], normalization: .minMax),
            .weighted(normalization: .zScore), .distributionBased(weights: [SearchSource.caption: 0.5]),
        ]
        let keywords = FakeKeywordIndex()
        let engine = try Self.engine(keywords: keywords)
        let text = "linen lamp"
        let encoder = HashingTextEncoder(dimension: 64)
        let q = try encoder.embed(text).values
        let hits = try engine.captionIndex.search(q, k: 100)
        let keywordHits = try keywords.search(text, k: 100, filter: NoFilter())
        for method in methods {
            var set = CandidateSet()
            try set.add(source: SearchSource.caption, hits: hits, metric: engine.captionIndex.metric)
            try set.add(source: SearchSource.keyword, scores: keywordHits.map { (id: $0.id, score: $0.score) })
            let expected = set.fused(method)
            let got = try engine.search(SearchQuery(text: text, k: 6, fusion: method))
            #expect(got.map(\.id) == expected.prefix(6).map(\.id), "\(method)")
            // The engine scales the query to unit length in Float before searching; this test searches with the
            // encoder's own output, so similarities differ in the last Float bits (a few 1e-8 after fusion).
            for (g, e) in zip(got, expected) {
                #expect(abs(g.explanation[SearchSource.fusion]! - e.score) < 1e-6, "\(method)")
            }
        }
    }

    @Test("minScores cut each retriever's list before fusion")
    func minScores() throws {
        let engine = try Self.engine()
        // Keyword scores here are 2 (item 1), 1 (item 6), 0.5 (item 3): a floor of 1 keeps two.
        let cut = try engine.search(
            SearchQuery(text: "brass lamp", k: 6, fusion: .reciprocalRank(weights: [SearchSource.caption: 0]),
                        minScores: [SearchSource.keyword: 1]))
        #expect(cut.map(\.id) == [1, 6])
        // A caption floor above every similarity leaves only keyword candidates.
        let noDense = try engine.search(SearchQuery(text: "brass lamp", k: 6, minScores: [SearchSource.caption: 1.5]))
        #expect(Set(noDense.map(\.id)) == [1, 3, 6])
        #expect(throws: SearchError.self) { try engine.search(SearchQuery(text: "x", minScores: ["keyword": .nan])) }
    }

    @Test("minRelevance needs a calibration, cuts at it, and reports each result's relevance")
    func relevanceCutoff() throws {
        let engine = try Self.engine()
        #expect(throws: SearchError.self) { try engine.search(SearchQuery(text: "brass lamp", minRelevance: 0.5)) }
        #expect(throws: SearchError.self) { try engine.search(SearchQuery(text: "brass lamp", minRelevance: 1.5)) }
        // Keyword score 1.5 ↦ probability 0.5; larger is more likely relevant.
        var configuration = engine.configuration
        configuration.calibration = RelevanceCalibration(models: [SearchSource.keyword: .platt(PlattScaling(a: -4, b: 6))])
        let calibrated = try SearchEngine(configuration: configuration)
        for item in Self.items {
            try calibrated.insert(item, captionEmbedding: try HashingTextEncoder(dimension: 64).embed(item.caption!).values, imageEmbedding: nil)
        }
        let sure = try calibrated.search(SearchQuery(text: "brass lamp", k: 6, minRelevance: 0.5))
        #expect(sure.map(\.id) == [1])
        let p = try #require(sure.first?.explanation[SearchSource.relevance])
        #expect(abs(p - 1 / (1 + exp(-4.0 * 2 + 6))) < 1e-12)
        let all = try calibrated.search(SearchQuery(text: "brass lamp", k: 6, minRelevance: 0))
        #expect(Set(all.map(\.id)) == [1, 3, 6])  // candidates no calibrated retriever scored have no relevance
        // Calibrated only for a retriever the query does not use: refused rather than returning nothing.
        let onlyKeyword = SearchQuery(text: "brass lamp", fusion: .reciprocalRank(weights: [SearchSource.keyword: 0]), minRelevance: 0.5)
        #expect(throws: SearchError.self) { try calibrated.search(onlyKeyword) }
    }

    @Test("a calibration fitted from judgements maps relevant scores higher than irrelevant ones")
    func fitCalibration() throws {
        let engine = try Self.engine()
        var qrels = Qrels()
        try qrels.setGrade(1, document: "1", query: "q1")
        try qrels.setGrade(1, document: "6", query: "q1")
        try qrels.setGrade(1, document: "3", query: "q2")
        try qrels.setGrade(1, document: "5", query: "q3")
        let queries = ["q1": "lamp", "q2": "linen curtains", "q3": "wool floor cushion"]
        for method in RelevanceCalibration.Method.allCases {
            let calibration = try engine.fitCalibration(queries: queries, judgements: qrels, method: method)
            #expect(Set(calibration.models.keys) == [SearchSource.caption, SearchSource.keyword])
            let model = try #require(calibration.models[SearchSource.caption])
            #expect(model.probability(1) > model.probability(0), "\(method)")
        }
        var missing = qrels
        try missing.setGrade(1, document: "2", query: "q9")
        #expect(throws: SearchError.self) { try engine.fitCalibration(queries: queries, judgements: missing, method: .platt) }
    }

    // MARK: - The collection's keyword index

    static let schema = CollectionSchema(fields: [VectorField(name: "caption", encoder: "hashing:64", dimension: 64)])

    /// The keyword index a collection opened last.
    final class Opened: Sendable {
        let index = Mutex<FakeKeywordIndex?>(nil)
        var current: FakeKeywordIndex { index.withLock { $0! } }
    }

    static func options(_ opened: Opened? = nil) -> SearchCollection.Options {
        SearchCollection.Options(keywordIndex: { directory, _ throws(SearchError) -> any KeywordRetriever in
            let index = try FakeKeywordIndex(file: directory + "/documents.json")
            opened?.index.withLock { $0 = index }
            return index
        })
    }

    static func engine(over collection: SearchCollection) throws -> SearchEngine {
        try SearchEngine(
            configuration: SearchEngine.Configuration(textEncoder: HashingTextEncoder(dimension: 64), textEncoderName: "hashing:64"),
            collection: collection)
    }

    @Test("the collection keeps its keyword index beside its vector fields: written, checkpointed, reopened, removed")
    func collectionKeywords() throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let opened = Opened()
        do {
            let collection = try SearchCollection(directory: scratch.path, schema: Self.schema, options: Self.options(opened))
            let engine = try Self.engine(over: collection)
            _ = try engine.ingest(Self.items.map { var i = $0; i.image = nil; return i })
            #expect(collection.keywords?.count == 6)
            try collection.checkpoint()
            #expect(opened.current.state.withLock { $0.flushes } == 1)
            #expect(try engine.remove([3]) == 1)
            #expect(collection.keywords?.contains(3) == false)
            try collection.close()
            #expect(opened.current.state.withLock { $0.closed })
        }
        let collection = try SearchCollection(directory: scratch.path, schema: Self.schema, options: Self.options())
        #expect(collection.recovery.isClean)
        let engine = try Self.engine(over: collection)
        let results = try engine.search(SearchQuery(text: "brass lamp", k: 6))
        #expect(results.first?.id == 1 && results.first?.matchedTerms[KeywordField.caption] == ["brass", "lamp"])
        #expect(!results.contains { $0.id == 3 })
        #expect(collection.files().contains { $0.name == "keywords" && $0.bytes > 0 })
        try collection.close()
    }

    @Test("a write whose keywords did not arrive is taken back, and after a crash removed on opening")
    func interruptedKeywordWrite() throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let opened = Opened()
        let collection = try SearchCollection(directory: scratch.path, schema: Self.schema, options: Self.options(opened))
        let v = Array(try HashingTextEncoder(dimension: 64).embed("brass lamp").values)
        opened.current.state.withLock { $0.failNextAdd = true }
        #expect(throws: SearchError.self) {
            try collection.add([CatalogItem(id: 7, caption: "brass lamp")], vectors: ["caption": FieldRows(ids: [7], rows: v)])
        }
        #expect(collection.count == 0 && collection.index("caption")!.contains(7) == false)
        // A crash between the vectors and the keywords: simulate by writing, then deleting the keyword document behind
        // the collection's back before reopening without a checkpoint.
        try collection.add([CatalogItem(id: 8, caption: "brass lamp")], vectors: ["caption": FieldRows(ids: [8], rows: v)])
        try opened.current.remove([8])
        let reopened = try SearchCollection(directory: scratch.path, schema: Self.schema, options: Self.options())
        #expect(reopened.recovery.interruptedItems == [8])
        #expect(reopened.count == 0 && reopened.index("caption")!.contains(8) == false)
        try reopened.close()
    }

    @Test("a keyword document for an item not in the write, or an item without its document, is refused")
    func documentsMatchItems() throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let collection = try SearchCollection(directory: scratch.path, schema: Self.schema, options: Self.options())
        let v = Array(try HashingTextEncoder(dimension: 64).embed("lamp").values)
        let rows = ["caption": FieldRows(ids: [1], rows: v)]
        #expect(throws: SearchError.self) {
            try collection.add([CatalogItem(id: 1, caption: "lamp")], vectors: rows, keywords: [KeywordDocument(id: 2, fields: ["caption": "x"])])
        }
        #expect(throws: SearchError.self) { try collection.add([CatalogItem(id: 1, caption: "lamp")], vectors: rows, keywords: []) }
        try collection.add(
            [CatalogItem(id: 1, caption: "lamp")], vectors: rows,
            keywords: [KeywordDocument(id: 1, fields: ["caption": "lamp", KeywordField.pictureText: "OPEN 24 HOURS"])])
        #expect(try collection.keywords!.search("hours", k: 1, filter: NoFilter()).first?.matchedTerms == [KeywordField.pictureText: ["hours"]])
        try collection.close()
    }

    @Test("the calibration is stored with the collection and read back on opening")
    func storedCalibration() throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let calibration = RelevanceCalibration(models: [
            SearchSource.keyword: .platt(PlattScaling(a: -1.5, b: 2)),
            SearchSource.caption: .isotonic(try IsotonicRegression(thresholds: [0.1, 0.5, 0.9], values: [0, 0.25, 1])),
        ])
        do {
            let collection = try SearchCollection(directory: scratch.path, schema: Self.schema, options: Self.options())
            #expect(collection.calibration == nil)
            try collection.setCalibration(calibration)
            try collection.close()
        }
        let collection = try SearchCollection(directory: scratch.path, schema: Self.schema, options: Self.options())
        #expect(collection.calibration == calibration)
        #expect(try Self.engine(over: collection).calibration == calibration)
        try collection.setCalibration(nil)
        #expect(collection.calibration == nil)
        try collection.close()
        // A damaged file is refused with the path, not read as no calibration.
        try Data("{\"format\":1,\"models\":{\"keyword\":{\"isotonic\":{\"_0\":{\"thresholds\":[2,1],\"values\":[0,1]}}}}}".utf8)
            .write(to: URL(fileURLWithPath: scratch.path + "/calibration.json"))
        #expect(throws: SearchError.self) { try SearchCollection(directory: scratch.path, schema: Self.schema, options: Self.options()) }
    }
}

extension HybridSearchTests {
    @Test("a collection opened with a keyword index for the first time indexes the text of the items it already holds")
    func keywordIndexAddedLater() throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let v = Array(try HashingTextEncoder(dimension: 64).embed("lamp").values)
        do {
            let plain = try SearchCollection(directory: scratch.path, schema: Self.schema)
            try plain.add([CatalogItem(id: 1, caption: "brass lamp")], vectors: ["caption": FieldRows(ids: [1], rows: v)])
            try plain.checkpoint()
            try plain.add([CatalogItem(id: 2, caption: "linen lamp")], vectors: ["caption": FieldRows(ids: [2], rows: v)])
            // Not closed: item 2 is in the log only.
        }
        let collection = try SearchCollection(directory: scratch.path, schema: Self.schema, options: Self.options())
        #expect(collection.recovery.interruptedItems.isEmpty && collection.count == 2)
        #expect(collection.keywords?.contains(1) == true && collection.keywords?.contains(2) == true)
        try collection.close()
    }
}

extension HybridSearchTests {
    @Test("with the BM25 keyword index: scores and matched terms are LexicalIndex's own, and survive close and reopen")
    func lexicalKeywordIndex() throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let options = SearchCollection.Options(keywordIndex: LexicalKeywordIndex.factory())
        let items = Self.items.map { var i = $0; i.image = nil; return i }
        do {
            let collection = try SearchCollection(directory: scratch.path, schema: Self.schema, options: options)
            _ = try Self.engine(over: collection).ingest(items)
            try collection.close()
        }
        let collection = try SearchCollection(directory: scratch.path, schema: Self.schema, options: options)
        let keywords = try #require(collection.keywords as? LexicalKeywordIndex)
        #expect(keywords.count == items.count)
        let direct = try keywords.index.search("brass lamps", k: 10)
        #expect(direct.first?.id == 1)
        let results = try Self.engine(over: collection).search(SearchQuery(text: "brass lamps", k: 6))
        for hit in direct {
            let result = try #require(results.first { $0.id == hit.id })
            #expect(result.keywordScore == Double(hit.score))
            #expect(result.matchedTerms == hit.matchedTerms)
        }
        // Stemmed: "lamps" matched the captions' "lamp"; the tag "brass" matched in the tags field.
        #expect(results.first { $0.id == 3 }?.matchedTerms[KeywordField.tags] != nil)
        #expect(try collection.remove([1]) == 1)
        #expect(try keywords.index.search("brass", k: 10).allSatisfy { $0.id != 1 })
        try collection.close()
    }
}
