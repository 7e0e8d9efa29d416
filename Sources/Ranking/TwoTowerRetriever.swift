import SearchCore

/// Retrieves candidates for a user by nearest neighbours of their user
/// vector in any ``VectorIndex`` of item embeddings (``ANNIndex``'s HNSW,
/// its exact index, or an adapter onto another engine).
///
/// ```swift
/// let retriever = TwoTowerRetriever(index: hnsw)
/// try retriever.addCandidates(for: userVector, k: 200, to: &candidateSet)
/// ```
public struct TwoTowerRetriever<Index: VectorIndex>: Sendable {
    /// The item index.
    public let index: Index
    /// The source name candidates are recorded under.
    public var source: String

    /// A retriever over `index`.
    public init(index: Index, source: String = "two-tower") {
        self.index = index
        self.source = source
    }

    /// The `k` items nearest `userVector` that `filter` allows, closest first.
    ///
    /// - Throws: the index's ``SearchError`` (a wrong dimension, a non-finite vector, k ≤ 0).
    public func retrieve<Filter: SearchFilter>(for userVector: [Float], k: Int, filter: Filter) throws -> [SearchHit] {
        try index.search(userVector, k: k, filter: filter)
    }

    /// The `k` nearest items with no filter.
    public func retrieve(for userVector: [Float], k: Int) throws -> [SearchHit] {
        try index.search(userVector, k: k)
    }

    /// Retrieves and adds the hits to `set` under ``source``, scored by the index's metric.
    public func addCandidates<Filter: SearchFilter>(
        for userVector: [Float], k: Int, filter: Filter = NoFilter(), to set: inout CandidateSet
    ) throws {
        let hits = try retrieve(for: userVector, k: k, filter: filter)
        try set.add(source: source, hits: hits, metric: index.metric)
    }
}
