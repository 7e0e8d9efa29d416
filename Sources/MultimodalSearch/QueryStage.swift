import Foundation
import Ranking
import SearchCore

/// The query path: embed the query (text through a bounded LRU of query
/// embeddings, never the catalogue's cache), ask each retriever for
/// candidates scored by its own index (a vector field's metric, or the
/// keyword index's BM25), cut each list at its `minScore`, fuse, cut at the
/// calibrated relevance, and rank.
struct QueryStage: Sendable {
    let configuration: SearchEngine.Configuration
    let queries: QueryEmbeddingCache
    let store: EngineStore
    let ranking: RerankPipeline

    /// One retriever: a vector field's index and the query vector for it, or
    /// the keyword index and the query text.
    struct Retriever {
        enum Input {
            case vector(field: String, values: [Float])
            case keyword(String)
        }
        var source: String
        var input: Input

        /// The query vector, for a vector retriever.
        var vector: [Float]? {
            if case .vector(_, let values) = input { return values }
            return nil
        }
    }

    /// What retrieval and fusion produced: the fused candidates and, for
    /// those the keyword index found, the terms they matched by field.
    struct Retrieved {
        var fused: [RankedCandidate]
        var matches: [VectorID: [String: [String]]]
    }

    /// The query's retrievers, in a fixed order: caption, text → image,
    /// keyword, image. A retriever whose fusion weight is 0 is not asked.
    func retrievers(for query: SearchQuery) throws(SearchError) -> [Retriever] {
        let fusion = query.fusion ?? configuration.fusion
        var out: [Retriever] = []
        if let text = query.text {
            if fusion.weight(of: SearchSource.caption) != 0 {
                var values = try given(query, SearchSource.caption, dimension: configuration.textEncoder.dimension)
                if values == nil { values = try embed(text, encoder: configuration.textEncoder, name: configuration.textEncoderName) }
                out.append(Retriever(source: SearchSource.caption, input: .vector(field: VectorField.caption, values: values!)))
            }
            if let cross = configuration.crossModalTextEncoder, fusion.weight(of: SearchSource.textToImage) != 0 {
                var values = try given(query, SearchSource.textToImage, dimension: cross.dimension)
                if values == nil { values = try embed(text, encoder: cross, name: configuration.imageEncoderName + "/text") }
                out.append(Retriever(source: SearchSource.textToImage, input: .vector(field: VectorField.image, values: values!)))
            }
            if store.keywords != nil, fusion.weight(of: SearchSource.keyword) != 0 {
                out.append(Retriever(source: SearchSource.keyword, input: .keyword(text)))
            }
        }
        if let image = query.image, fusion.weight(of: SearchSource.image) != 0 {
            guard let encoder = configuration.imageEncoder else {
                throw SearchError(.invalidArgument, "a query by picture needs an image encoder; this engine has none")
            }
            let vector: [Float]
            if let given = try given(query, SearchSource.image, dimension: encoder.dimension) {
                vector = given
            } else {
                let input: ImageInput
                if case .pixels(let pixels) = image { input = .rgb(pixels) } else { input = .encoded(try IngestStage.encodedBytes(image)) }
                var embedded = try encoder.embed(input).values
                try IngestStage.normalize(&embedded, what: "the query picture's embedding")
                vector = embedded
            }
            out.append(Retriever(source: SearchSource.image, input: .vector(field: VectorField.image, values: vector)))
        }
        return out
    }

    /// Candidates from every retriever whose index holds anything, each list
    /// cut at its `minScore`, fused, then cut at `minRelevance`.
    func candidates<Filter: SearchFilter>(
        _ retrievers: [Retriever], query: SearchQuery, calibration: RelevanceCalibration?, filter: Filter
    ) throws(SearchError) -> Retrieved {
        var set = CandidateSet()
        var matches: [VectorID: [String: [String]]] = [:]
        for r in retrievers {
            var scores: [(id: VectorID, score: Double)]
            switch r.input {
            case .vector(let field, let vector):
                guard let index = store.index(field), index.count > 0 else { continue }
                let hits = try index.search(vector, k: configuration.candidatesPerRetriever, filter: filter)
                scores = hits.map { (id: $0.id, score: Double($0.score(index.metric))) }
            case .keyword(let text):
                guard let keywords = store.keywords, keywords.count > 0 else { continue }
                let hits = try keywords.search(text, k: configuration.candidatesPerRetriever, filter: filter)
                scores = hits.map { (id: $0.id, score: $0.score) }
                for hit in hits { matches[hit.id] = hit.matchedTerms }
            }
            if let floor = query.minScores[r.source] { scores.removeAll { $0.score < floor } }
            try set.add(source: r.source, scores: scores)
        }
        var fused = set.fused(query.fusion ?? configuration.fusion)
        if let threshold = query.minRelevance {
            guard let calibration else {
                throw SearchError(
                    .invalidArgument,
                    "a relevance cut-off needs a calibration; fit one with `SearchEngine.fitCalibration` from judged queries and store it with `SearchCollection.setCalibration`"
                )
            }
            let sources = retrievers.map(\.source)
            guard sources.contains(where: { calibration.models[$0] != nil }) else {
                throw SearchError(
                    .invalidArgument,
                    "the calibration covers \(calibration.models.keys.sorted().joined(separator: ", ")), none of this query's retrievers (\(sources.joined(separator: ", ")))"
                )
            }
            fused = fused.compactMap { candidate in
                guard let p = calibration.relevance(of: candidate.explanation), p >= threshold else { return nil }
                var kept = candidate
                kept.explanation[SearchSource.relevance] = p
                return kept
            }
        }
        return Retrieved(fused: fused, matches: matches)
    }

    /// The ranked top `query.k`, each with its item.
    func rank(_ retrieved: Retrieved, query: SearchQuery, retrievers: [Retriever]) throws(SearchError) -> [SearchResult] {
        let context = RankingContext(
            userID: query.userID, queryEmbedding: retrievers.lazy.compactMap(\.vector).first.map { Embedding($0) }, now: Date())
        let ranked = try ranking.rerank(retrieved.fused, context: context)
        var results: [SearchResult] = []
        results.reserveCapacity(query.k)
        for candidate in ranked where results.count < query.k {
            // A candidate whose item is gone (removed while the search ran) is passed over.
            guard let item = try store.item(candidate.id) else { continue }
            results.append(
                SearchResult(
                    id: candidate.id, score: candidate.score, explanation: candidate.explanation, item: item,
                    keywordScore: candidate.explanation[SearchSource.keyword],
                    matchedTerms: retrieved.matches[candidate.id] ?? [:]))
        }
        return results
    }

    /// The query's precomputed embedding for `source`, checked and scaled to unit length.
    func given(_ query: SearchQuery, _ source: String, dimension: Int) throws(SearchError) -> [Float]? {
        guard var v = query.embeddings[source] else { return nil }
        try SearchError.checkDimension(v.count, expected: dimension, "the given \(source) query embedding")
        try IngestStage.normalize(&v, what: "the given \(source) query embedding")
        return v
    }

    /// A text's unit-length embedding, through the query cache.
    func embed(_ text: String, encoder: any TextEncoder, name: String) throws(SearchError) -> [Float] {
        let key = name + "\u{0}" + text
        if let hit = queries.embedding(for: key) { return hit }
        var vector = try encoder.embed(text).values
        try IngestStage.normalize(&vector, what: "the embedding of \"\(text.prefix(40))\"")
        queries.store(vector, for: key)
        return vector
    }
}

/// The names of the retrievers (fusion sources) and of the scores a result's
/// `explanation` carries: use them as keys of fusion weights, of
/// ``SearchQuery/minScores`` and of a ``RelevanceCalibration``.
public enum SearchSource {
    /// Caption embeddings searched with the query text's embedding.
    public static let caption = "caption"
    /// Picture embeddings searched with the query text through a CLIP text tower.
    public static let textToImage = "text→image"
    /// Picture embeddings searched with the query picture's embedding.
    public static let image = "image"
    /// The keyword index searched with the query text (BM25).
    public static let keyword = "keyword"
    /// The fused score.
    public static let fusion = "fusion"
    /// The calibrated probability of relevance, when the query asked for a cut-off.
    public static let relevance = "relevance"
}
