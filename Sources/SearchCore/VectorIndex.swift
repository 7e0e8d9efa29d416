/// An index of vectors that answers nearest-neighbour queries.
///
/// The seam between retrieval and everything else: ``ANNIndex``'s exact and
/// graph indices conform, and so can an adapter onto another engine. Queries
/// come in as flat `Float` buffers; batch search writes into caller-owned
/// buffers, so nothing is allocated per query by the protocol itself.
///
/// Conforming types are reference types with internal synchronisation: many
/// searches may run concurrently with one writer.
///
/// ```swift
/// try index.add(vector, id: 42)
/// let hits = try index.search(query, k: 10)
/// let inStock = try index.search(query, k: 10, filter: AllowList(stockedIDs))
/// ```
public protocol VectorIndex: AnyObject, Sendable {
    /// The number of components of every vector.
    var dimension: Int { get }
    /// How vectors are compared.
    var metric: Metric { get }
    /// The number of live (not deleted) vectors.
    var count: Int { get }

    /// Adds vectors, `ids.count` rows of ``dimension`` floats laid end to end.
    /// Re-adding an identifier replaces its vector.
    ///
    /// - Throws: ``SearchError`` with ``SearchError/Code/dimensionMismatch`` when
    ///   `vectors.count != ids.count * dimension`, ``SearchError/Code/invalidVector``
    ///   for NaN or ±Inf components (or a zero vector under cosine). Nothing is
    ///   added when it throws.
    func add(_ vectors: UnsafeBufferPointer<Float>, ids: [VectorID]) throws(SearchError)

    /// Deletes vectors; returns how many of `ids` were present. A deleted
    /// vector is never returned again.
    @discardableResult
    func remove(_ ids: [VectorID]) throws(SearchError) -> Int

    /// The `k` nearest live vectors allowed by `filter`, closest first.
    ///
    /// Returns exactly `min(k, number of allowed live vectors)` hits where the
    /// index can guarantee it (see the conforming type's documentation).
    ///
    /// - Throws: ``SearchError`` for a wrong dimension, a non-finite query, or
    ///   `k <= 0`.
    func search<Filter: SearchFilter>(
        _ query: UnsafeBufferPointer<Float>, k: Int, filter: Filter
    ) throws(SearchError) -> [SearchHit]

    /// Searches `queries.count / dimension` queries laid end to end and writes
    /// each one's hits into `hits[q*k ..< q*k + counts[q]]`, closest first.
    ///
    /// A requirement (with a default that searches one query at a time), so
    /// an index's own allocation-free batch search is reached even through
    /// `any VectorIndex`.
    func search<Filter: SearchFilter>(
        batch queries: UnsafeBufferPointer<Float>, k: Int, filter: Filter,
        into hits: UnsafeMutableBufferPointer<SearchHit>, counts: UnsafeMutableBufferPointer<Int>
    ) throws(SearchError)
}

extension VectorIndex {
    /// Adds one vector.
    public func add(_ vector: [Float], id: VectorID) throws(SearchError) {
        try vector.withUnsafeBufferPointer { (v) throws(SearchError) in try add(v, ids: [id]) }
    }

    /// Adds `ids.count` vectors laid end to end in `vectors`.
    public func add(_ vectors: [Float], ids: [VectorID]) throws(SearchError) {
        try vectors.withUnsafeBufferPointer { (v) throws(SearchError) in try add(v, ids: ids) }
    }

    /// The `k` nearest live vectors, closest first.
    public func search(_ query: [Float], k: Int) throws(SearchError) -> [SearchHit] {
        try query.withUnsafeBufferPointer { (q) throws(SearchError) in try search(q, k: k, filter: NoFilter()) }
    }

    /// The `k` nearest live vectors allowed by `filter`, closest first.
    public func search<Filter: SearchFilter>(_ query: [Float], k: Int, filter: Filter) throws(SearchError) -> [SearchHit] {
        try query.withUnsafeBufferPointer { (q) throws(SearchError) in try search(q, k: k, filter: filter) }
    }

    /// Searches `queries.count / dimension` queries laid end to end and writes
    /// each one's hits into `hits[q*k ..< q*k + counts[q]]`, closest first.
    ///
    /// - Parameters:
    ///   - hits: room for `k` hits per query.
    ///   - counts: one entry per query, set to the number of hits written.
    public func search<Filter: SearchFilter>(
        batch queries: UnsafeBufferPointer<Float>, k: Int, filter: Filter,
        into hits: UnsafeMutableBufferPointer<SearchHit>, counts: UnsafeMutableBufferPointer<Int>
    ) throws(SearchError) {
        guard dimension > 0, queries.count % dimension == 0 else {
            throw SearchError(
                .dimensionMismatch,
                "a batch of \(queries.count) floats is not a whole number of \(dimension)-component queries")
        }
        let queryCount = queries.count / dimension
        guard counts.count >= queryCount, hits.count >= queryCount * max(k, 0) else {
            throw SearchError(
                .invalidArgument,
                "output buffers hold \(counts.count) counts and \(hits.count) hits; \(queryCount) queries × k = \(k) need \(queryCount) and \(queryCount * max(k, 0))"
            )
        }
        for q in 0..<queryCount {
            let query = UnsafeBufferPointer(rebasing: queries[(q * dimension)..<((q + 1) * dimension)])
            let found = try search(query, k: k, filter: filter)
            for (j, hit) in found.enumerated() { hits[q * k + j] = hit }
            counts[q] = found.count
        }
    }
}
