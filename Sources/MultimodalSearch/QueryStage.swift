import Foundation
import Ranking
import SearchCore

/// The query path: embed the query (text through a bounded LRU of query
/// embeddings, never the catalogue's cache), ask each retriever for
/// candidates scored by its own index's metric, fuse, and rank.
struct QueryStage: Sendable {
    let configuration: SearchEngine.Configuration
    let queries: QueryEmbeddingCache
    let store: EngineStore
    let ranking: RerankPipeline

    /// One retriever: a field's index and the query vector for it.
    struct Retriever {
        var source: String
        var field: String
        var vector: [Float]
    }

    /// The query's retrievers, in a fixed order: caption, image, text → image.
    func retrievers(for query: SearchQuery) throws(SearchError) -> [Retriever] {
        var out: [Retriever] = []
        if let text = query.text {
            out.append(
                Retriever(
                    source: "caption", field: VectorField.caption,
                    vector: try embed(text, encoder: configuration.textEncoder, name: configuration.textEncoderName)))
            if let cross = configuration.crossModalTextEncoder {
                out.append(
                    Retriever(
                        source: "text→image", field: VectorField.image,
                        vector: try embed(text, encoder: cross, name: configuration.imageEncoderName + "/text")))
            }
        }
        if let image = query.image {
            guard let encoder = configuration.imageEncoder else {
                throw SearchError(.invalidArgument, "a query by picture needs an image encoder; this engine has none")
            }
            let input: ImageInput
            if case .pixels(let pixels) = image { input = .rgb(pixels) } else { input = .encoded(try IngestStage.encodedBytes(image)) }
            var vector = try encoder.embed(input).values
            try IngestStage.normalize(&vector, what: "the query picture's embedding")
            out.append(Retriever(source: "image", field: VectorField.image, vector: vector))
        }
        return out
    }

    /// Candidates from every retriever whose index holds anything, fused.
    func candidates<Filter: SearchFilter>(_ retrievers: [Retriever], filter: Filter) throws(SearchError) -> [RankedCandidate] {
        var set = CandidateSet()
        for r in retrievers {
            guard let index = store.index(r.field), index.count > 0 else { continue }
            let hits = try index.search(r.vector, k: configuration.candidatesPerRetriever, filter: filter)
            try set.add(source: r.source, hits: hits, metric: index.metric)
        }
        return set.fused(configuration.fusion)
    }

    /// The ranked top `query.k`, each with its item.
    func rank(_ fused: [RankedCandidate], query: SearchQuery, retrievers: [Retriever]) throws(SearchError) -> [SearchResult] {
        let context = RankingContext(
            userID: query.userID, queryEmbedding: retrievers.first.map { Embedding($0.vector) }, now: Date())
        let ranked = try ranking.rerank(fused, context: context)
        var results: [SearchResult] = []
        results.reserveCapacity(query.k)
        for candidate in ranked where results.count < query.k {
            // A candidate whose item is gone (removed while the search ran) is passed over.
            guard let item = try store.item(candidate.id) else { continue }
            results.append(SearchResult(id: candidate.id, score: candidate.score, explanation: candidate.explanation, item: item))
        }
        return results
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
