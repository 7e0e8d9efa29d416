import SearchCore
import Tensor

extension HNSWIndex {
    /// The `k` nearest live vectors allowed by `filter`, closest first, with
    /// the configured ``Configuration/efSearch``.
    ///
    /// - Throws: ``SearchError`` for a wrong dimension, a non-finite or (under
    ///   cosine) zero query, or `k <= 0`.
    /// - Complexity: about O(ef · M0 · log N · `dimension`).
    public func search<Filter: SearchFilter>(
        _ query: UnsafeBufferPointer<Float>, k: Int, filter: Filter
    ) throws(SearchError) -> [SearchHit] {
        try search(query, k: k, ef: configuration.efSearch, filter: filter)
    }

    /// The `k` nearest live vectors allowed by `filter`, closest first,
    /// searching with a candidate list of `ef` (*ef* in the paper; raised to `k`).
    public func search<Filter: SearchFilter>(
        _ query: UnsafeBufferPointer<Float>, k: Int, ef: Int, filter: Filter
    ) throws(SearchError) -> [SearchHit] {
        try VectorInput.checkK(k)
        try checkEF(ef)
        try VectorInput.validate(query, rows: 1, dimension: dimension, metric: metric, kernels: kernels, what: "query")
        return [SearchHit](unsafeUninitializedCapacity: k) { buffer, written in
            written = lock.withReadLock {
                dispatch(filter, queries: query.baseAddress!, count: 1, k: k, ef: ef, hits: buffer.baseAddress!, counts: nil)
            }
        }
    }

    /// The `k` nearest live vectors, closest first, with search list size `ef`.
    public func search(_ query: [Float], k: Int, ef: Int) throws(SearchError) -> [SearchHit] {
        try query.withUnsafeBufferPointer { (q) throws(SearchError) in try search(q, k: k, ef: ef, filter: NoFilter()) }
    }

    /// Searches `queries.count / dimension` queries laid end to end and writes
    /// each one's hits into `hits[q*k ..< q*k + counts[q]]`, closest first.
    /// Allocates nothing once the index's scratch pool is warm.
    ///
    /// - Parameter ef: the search list size; `nil` means ``Configuration/efSearch``.
    /// - Throws: as ``search(_:k:ef:filter:)``, and
    ///   ``SearchError/Code/invalidArgument`` when the output buffers are too
    ///   small; nothing is written when it throws.
    public func search<Filter: SearchFilter>(
        batch queries: UnsafeBufferPointer<Float>, k: Int, ef: Int? = nil, filter: Filter,
        into hits: UnsafeMutableBufferPointer<SearchHit>, counts: UnsafeMutableBufferPointer<Int>
    ) throws(SearchError) {
        let ef = ef ?? configuration.efSearch
        try VectorInput.checkK(k)
        try checkEF(ef)
        guard queries.count % dimension == 0 else {
            throw SearchError(
                .dimensionMismatch,
                "a batch of \(queries.count) floats is not a whole number of \(dimension)-component queries")
        }
        let queryCount = queries.count / dimension
        guard counts.count >= queryCount, hits.count >= queryCount * k else {
            throw SearchError(.invalidArgument, "output buffers too small for \(queryCount) queries × k = \(k)")
        }
        try VectorInput.validate(
            queries, rows: queryCount, dimension: dimension, metric: metric, kernels: kernels, what: "query")
        guard queryCount > 0 else { return }
        let (q, h, c) = (queries.baseAddress!, hits.baseAddress!, counts.baseAddress!)
        lock.withReadLock {
            _ = dispatch(filter, queries: q, count: queryCount, k: k, ef: ef, hits: h, counts: c)
        }
    }

    /// Searches a batch with the configured ``Configuration/efSearch``
    /// (the ``VectorIndex`` batch entry point, answered without allocating).
    public func search<Filter: SearchFilter>(
        batch queries: UnsafeBufferPointer<Float>, k: Int, filter: Filter,
        into hits: UnsafeMutableBufferPointer<SearchHit>, counts: UnsafeMutableBufferPointer<Int>
    ) throws(SearchError) {
        try search(batch: queries, k: k, ef: nil, filter: filter, into: hits, counts: counts)
    }

    private func checkEF(_ ef: Int) throws(SearchError) {
        guard ef >= 1 && ef <= 1 << 16 else {
            throw SearchError(.invalidArgument, "ef must be in 1...65536; got \(ef)")
        }
    }

    /// Turns the filter into a concrete type, then the graph: only with
    /// every type concrete does the compiler specialise the search loop (the
    /// codec's distance and the filter's check inlined, no witness call per
    /// candidate). The filters of SearchCore and this module are matched by
    /// type; any other filter is called through one closure per visited node.
    private func dispatch<Filter: SearchFilter>(
        _ filter: Filter, queries: UnsafePointer<Float>, count: Int, k: Int, ef: Int,
        hits: UnsafeMutablePointer<SearchHit>, counts: UnsafeMutablePointer<Int>?
    ) -> Int {
        if let f = filter as? NoFilter { return onGraph(f, queries, count, k, ef, hits, counts) }
        if let f = filter as? AllowList { return onGraph(f, queries, count, k, ef, hits, counts) }
        if let f = filter as? IDBitSet { return onGraph(f, queries, count, k, ef, hits, counts) }
        if let f = filter as? DenyList { return onGraph(f, queries, count, k, ef, hits, counts) }
        if let f = filter as? PredicateFilter { return onGraph(f, queries, count, k, ef, hits, counts) }
        return onGraph(ForeignFilter(filter), queries, count, k, ef, hits, counts)
    }

    @inline(__always)
    private func onGraph<Filter: SearchFilter>(
        _ filter: Filter, _ queries: UnsafePointer<Float>, _ count: Int, _ k: Int, _ ef: Int,
        _ hits: UnsafeMutablePointer<SearchHit>, _ counts: UnsafeMutablePointer<Int>?
    ) -> Int {
        switch graph {
        case .float32(let g): Self.run(g, queries: queries, count: count, k: k, ef: ef, filter: filter, hits: hits, counts: counts)
        case .float16(let g): Self.run(g, queries: queries, count: count, k: k, ef: ef, filter: filter, hits: hits, counts: counts)
        case .int8(let g): Self.run(g, queries: queries, count: count, k: k, ef: ef, filter: filter, hits: hits, counts: counts)
        }
    }

    /// Runs `count` queries on one concrete graph (generic, so specialised
    /// per codec: no existential in the loop). Returns the last query's hit count.
    private static func run<Codec: VectorCodec, Filter: SearchFilter>(
        _ core: HNSWCore<Codec>, queries: UnsafePointer<Float>, count: Int, k: Int, ef: Int, filter: Filter,
        hits: UnsafeMutablePointer<SearchHit>, counts: UnsafeMutablePointer<Int>?
    ) -> Int {
        core.scratchPool.withScratch { scratch in
            var last = 0
            for q in 0..<count {
                last = core.search(
                    one: queries + q * core.dimension, k: k, ef: ef, filter: filter, into: hits + q * k,
                    scratch: scratch)
                counts?[q] = last
            }
            return last
        }
    }
}

extension HNSWCore {
    /// Normalises a cosine query into scratch, then searches.
    func search<Filter: SearchFilter>(
        one query: UnsafePointer<Float>, k: Int, ef: Int, filter: Filter, into out: UnsafeMutablePointer<SearchHit>,
        scratch: SearchScratch
    ) -> Int {
        var vector = query
        if metric == .cosine {
            VectorInput.copy(query, to: scratch.floatBuffer, count: dimension, normalize: true, kernels: kernels)
            vector = UnsafePointer(scratch.floatBuffer)
        }
        return search(vector, k: k, ef: ef, filter: filter, into: out, scratch: scratch)
    }
}

/// A filter of a type this module does not know, behind one closure, so the
/// rest of the search is still specialised for the codec.
struct ForeignFilter: SearchFilter {
    let check: @Sendable (VectorID) -> Bool
    init<Filter: SearchFilter>(_ filter: Filter) { check = { filter.allows($0) } }
    @inline(__always) func allows(_ id: VectorID) -> Bool { check(id) }
}
