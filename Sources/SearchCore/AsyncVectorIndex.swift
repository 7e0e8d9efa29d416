/// A vector index whose operations wait on I/O: an adapter onto a remote
/// engine (see the Milvus package) rather than memory or a mapped file.
///
/// The asynchronous sibling of ``VectorIndex``, with the same contract:
/// re-adding an identifier replaces its vector, a removed vector is never
/// returned again, hits come closest first as distances under ``metric``.
/// Buffers cannot be held across a suspension, so vectors travel as arrays.
///
/// ```swift
/// try await index.add(vectors, ids: [1, 2])
/// let hits = try await index.search(query, k: 10, filter: AllowList([1]))
/// ```
public protocol AsyncVectorIndex: AnyObject, Sendable {
    /// The number of components of every vector.
    var dimension: Int { get }
    /// How vectors are compared.
    var metric: Metric { get }

    /// The number of live (not deleted) vectors, exact at the time of the call.
    func exactCount() async throws(SearchError) -> Int

    /// Adds `ids.count` vectors laid end to end; re-adding an identifier
    /// replaces its vector. Returns only once the index has acknowledged every
    /// row; when it throws, the caller must assume any subset was written and
    /// may retry (adding is idempotent).
    func add(_ vectors: [Float], ids: [VectorID]) async throws(SearchError)

    /// Deletes vectors; returns how many of `ids` were present.
    @discardableResult
    func remove(_ ids: [VectorID]) async throws(SearchError) -> Int

    /// The `k` nearest live vectors allowed by `filter`, closest first.
    func search<Filter: SearchFilter>(_ query: [Float], k: Int, filter: Filter) async throws(SearchError) -> [SearchHit]

    /// The `k` nearest live vectors allowed by `filter` for each of
    /// `queries.count / dimension` queries laid end to end, closest first.
    func search<Filter: SearchFilter>(batch queries: [Float], k: Int, filter: Filter) async throws(SearchError)
        -> [[SearchHit]]
}

extension AsyncVectorIndex {
    /// The `k` nearest live vectors, closest first.
    public func search(_ query: [Float], k: Int) async throws(SearchError) -> [SearchHit] {
        try await search(query, k: k, filter: NoFilter())
    }
}
