import Foundation
import Ranking
import SearchCore

extension SearchEngine {
    /// Searches by text, by picture, or both, among items `filter` allows.
    ///
    /// Each retriever (caption; text → picture with a CLIP text tower;
    /// keywords, when there is a keyword index; picture) proposes
    /// ``Configuration/candidatesPerRetriever`` candidates scored by its own
    /// index (a vector metric's similarity, or BM25); each list loses what
    /// falls below its ``SearchQuery/minScores`` entry; the lists are fused
    /// (``SearchQuery/fusion``, else ``Configuration/fusion``); candidates
    /// whose calibrated relevance is below ``SearchQuery/minRelevance`` are
    /// dropped; the ranking pipeline runs — engagement first, then
    /// ``Configuration/rerankers`` — and the top `query.k` come back with
    /// every stage's score in `explanation`, and the keyword score and
    /// matched terms of those the keyword index found. Items the searching
    /// user hid never come back to that user.
    ///
    /// ```swift
    /// // Keywords and caption embeddings, keywords weighted twice, after min-max normalisation:
    /// let query = SearchQuery(
    ///     text: "brass floor lamp", k: 10,
    ///     fusion: .weighted(weights: [SearchSource.keyword: 2], normalization: .minMax))
    /// for result in try engine.search(query) { print(result.id, result.keywordScore ?? 0, result.matchedTerms) }
    /// ```
    ///
    /// - Throws: ``SearchCore/SearchError`` for `k <= 0`, a query with neither
    ///   text nor picture, an unreadable query picture, a picture query
    ///   without an image encoder, or a `minRelevance` without a calibration
    ///   for any of the query's retrievers.
    public func search<Filter: SearchFilter>(_ query: SearchQuery, filter: Filter) throws(SearchError) -> [SearchResult] {
        let retrievers = try prepare(query)
        let fused = try self.query.candidates(retrievers, query: query, calibration: calibration, filter: filter)
        return try self.query.rank(fused, query: query, retrievers: retrievers)
    }

    /// Searches without a filter.
    public func search(_ query: SearchQuery) throws(SearchError) -> [SearchResult] { try search(query, filter: NoFilter()) }

    /// ``search(_:filter:)`` that checks for cancellation between stages.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/cancelled`` when the task is cancelled.
    public func search<Filter: SearchFilter>(_ query: SearchQuery, filter: Filter) async throws(SearchError) -> [SearchResult] {
        let retrievers = try prepare(query)
        try Self.checkCancellation("after the query was embedded")
        let fused = try self.query.candidates(retrievers, query: query, calibration: calibration, filter: filter)
        try Self.checkCancellation("after retrieval")
        return try self.query.rank(fused, query: query, retrievers: retrievers)
    }

    /// ``search(_:)`` that checks for cancellation between stages.
    public func search(_ query: SearchQuery) async throws(SearchError) -> [SearchResult] {
        try await search(query, filter: NoFilter())
    }

    /// Unit-length query embeddings of `texts`, one encoder pass per text
    /// tower for all of them (not through the query cache): for each text,
    /// by retriever, ``SearchSource/caption`` and, with a CLIP text tower,
    /// ``SearchSource/textToImage``. Pass one to ``SearchQuery/embeddings``.
    ///
    /// - Throws: ``SearchCore/SearchError`` when an encoder fails, or
    ///   `.invalidVector` when an embedding is zero or not finite.
    /// - Complexity: one forward pass of each text tower over the batch.
    public func embedQueryTexts(_ texts: [String]) throws(SearchError) -> [[String: [Float]]] {
        var out = [[String: [Float]]](repeating: [:], count: texts.count)
        guard !texts.isEmpty else { return out }
        var towers: [(String, any TextEncoder)] = [(SearchSource.caption, configuration.textEncoder)]
        if let cross = configuration.crossModalTextEncoder { towers.append((SearchSource.textToImage, cross)) }
        for (source, encoder) in towers {
            let rows = try encoder.embed(texts: texts)
            let d = encoder.dimension
            for i in texts.indices {
                var v = Array(rows[i * d..<(i + 1) * d])
                try IngestStage.normalize(&v, what: "the \(source) embedding of \"\(texts[i].prefix(40))\"")
                out[i][source] = v
            }
        }
        return out
    }

    /// Unit-length embeddings of query pictures, in one image-encoder call
    /// (the encoder batches its forward passes); pass each as
    /// ``SearchQuery/embeddings``[``SearchSource/image``].
    ///
    /// - Throws: ``SearchCore/SearchError`` `.invalidArgument` without an
    ///   image encoder, what decoding or the encoder throws (for the batch as
    ///   a whole), `.invalidVector` for a zero or non-finite embedding.
    public func embedQueryPictures(_ pictures: [ImageInput]) throws(SearchError) -> [[Float]] {
        guard !pictures.isEmpty else { return [] }
        guard let encoder = configuration.imageEncoder else {
            throw SearchError(.invalidArgument, "a query by picture needs an image encoder; this engine has none")
        }
        let d = encoder.dimension
        var rows = [Float](repeating: 0, count: pictures.count * d)
        try rows.withUnsafeMutableBufferPointer { (buffer) throws(SearchError) in try encoder.embed(images: pictures, into: buffer) }
        var out: [[Float]] = []
        out.reserveCapacity(pictures.count)
        for i in pictures.indices {
            var v = Array(rows[i * d..<(i + 1) * d])
            try IngestStage.normalize(&v, what: "the embedding of query picture \(i)")
            out.append(v)
        }
        return out
    }

    private func prepare(_ query: SearchQuery) throws(SearchError) -> [QueryStage.Retriever] {
        guard query.k > 0 else { throw SearchError(.invalidArgument, "k must be at least 1, got \(query.k)") }
        guard query.text != nil || query.image != nil else {
            throw SearchError(.invalidArgument, "a query needs text, a picture, or both")
        }
        if let p = query.minRelevance, !(0...1).contains(p) {
            throw SearchError(.invalidArgument, "minRelevance is a probability in [0, 1], got \(p)")
        }
        if let bad = query.minScores.first(where: { $0.value.isNaN }) {
            throw SearchError(.invalidArgument, "the minimum score of retriever \(bad.key) is NaN")
        }
        return try self.query.retrievers(for: query)
    }

    private static func checkCancellation(_ when: String) throws(SearchError) {
        if Task.isCancelled { throw SearchError(.cancelled, "the search was cancelled \(when)") }
    }

    // MARK: - Feedback

    /// Records what a person did with a result; the next search ranks with
    /// it. With a collection it is on disk when this returns.
    public func record(_ event: EngagementEvent) throws(SearchError) { try store.record([event]) }

    /// Records several events at once (one disk write with a collection).
    public func record(_ events: [EngagementEvent]) throws(SearchError) { try store.record(events) }

    /// Records impressions for the results a person was shown.
    public func recordImpressions(_ results: [SearchResult], user: String? = nil, at time: Date = Date()) throws(SearchError) {
        try store.record(results.map { EngagementEvent(item: $0.id, user: user.map(UserID.init), kind: .impression, time: time) })
    }
}

/// An error from another layer, kept as a description so it can travel as a
/// `Sendable` underlying cause.
struct SendableDescription: Error, Sendable, CustomStringConvertible {
    var description: String
    init(_ error: any Error) { description = "\(error)" }
}
