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
        try SearchBounds.check(k: k, ef: ef)
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
        try SearchBounds.check(k: k, ef: ef)
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

    /// Searches `count` queries on the graph with the filter as its concrete
    /// type (see ``FilterBody/dispatch(_:)``); returns the last query's hit count.
    private func dispatch<Filter: SearchFilter>(
        _ filter: Filter, queries: UnsafePointer<Float>, count: Int, k: Int, ef: Int,
        hits: UnsafeMutablePointer<SearchHit>, counts: UnsafeMutablePointer<Int>?
    ) -> Int {
        GraphRun(graph: graph, queries: queries, count: count, k: k, ef: ef, hits: hits, counts: counts).dispatch(filter)
    }

    /// One batch of queries on whichever concrete graph the index holds.
    private struct GraphRun: FilterBody {
        let graph: Graph
        let queries: UnsafePointer<Float>
        let count: Int
        let k: Int
        let ef: Int
        let hits: UnsafeMutablePointer<SearchHit>
        let counts: UnsafeMutablePointer<Int>?

        @inline(__always)
        func run<Filter: SearchFilter>(_ filter: Filter) -> Int {
            switch graph {
            case .float32(let g): HNSWIndex.run(g, queries: queries, count: count, k: k, ef: ef, filter: filter, hits: hits, counts: counts)
            case .float16(let g): HNSWIndex.run(g, queries: queries, count: count, k: k, ef: ef, filter: filter, hits: hits, counts: counts)
            case .int8(let g): HNSWIndex.run(g, queries: queries, count: count, k: k, ef: ef, filter: filter, hits: hits, counts: counts)
            }
        }
    }

    /// Runs `count` queries on one concrete graph (generic, so specialised
    /// per codec: no existential in the loop). Returns the last query's hit count.
    fileprivate static func run<Codec: VectorCodec, Filter: SearchFilter>(
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
