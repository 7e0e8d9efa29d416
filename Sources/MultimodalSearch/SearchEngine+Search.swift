import Foundation
import Ranking
import SearchCore

extension SearchEngine {
    /// Searches by text, by picture, or both, among items `filter` allows.
    ///
    /// Each retriever (caption; picture; text → picture with a CLIP text
    /// tower) proposes ``Configuration/candidatesPerRetriever`` candidates
    /// scored by its own index's metric; the lists are fused
    /// (``Configuration/fusion``), the ranking pipeline runs — engagement
    /// first, then ``Configuration/rerankers`` — and the top `query.k` come
    /// back with every stage's score in `explanation`. Items the searching
    /// user hid never come back to that user.
    ///
    /// - Throws: ``SearchCore/SearchError`` for `k <= 0`, a query with neither
    ///   text nor picture, an unreadable query picture, or a picture query
    ///   without an image encoder.
    public func search<Filter: SearchFilter>(_ query: SearchQuery, filter: Filter) throws(SearchError) -> [SearchResult] {
        let retrievers = try prepare(query)
        let fused = try self.query.candidates(retrievers, filter: filter)
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
        let fused = try self.query.candidates(retrievers, filter: filter)
        try Self.checkCancellation("after retrieval")
        return try self.query.rank(fused, query: query, retrievers: retrievers)
    }

    /// ``search(_:)`` that checks for cancellation between stages.
    public func search(_ query: SearchQuery) async throws(SearchError) -> [SearchResult] {
        try await search(query, filter: NoFilter())
    }

    private func prepare(_ query: SearchQuery) throws(SearchError) -> [QueryStage.Retriever] {
        guard query.k > 0 else { throw SearchError(.invalidArgument, "k must be at least 1, got \(query.k)") }
        guard query.text != nil || query.image != nil else {
            throw SearchError(.invalidArgument, "a query needs text, a picture, or both")
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
