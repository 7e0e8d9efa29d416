import SearchCore
import Tensor

extension FlatIndex {
    /// The `k` nearest stored vectors allowed by `filter`, closest first:
    /// exactly `min(k, allowed count)` hits.
    ///
    /// - Throws: ``SearchError`` for a wrong dimension, a non-finite or (under
    ///   cosine) zero query, or `k <= 0`. An empty index returns no hits.
    /// - Complexity: O(n × `dimension`) for n stored vectors.
    public func search<Filter: SearchFilter>(
        _ query: UnsafeBufferPointer<Float>, k: Int, filter: Filter
    ) throws(SearchError) -> [SearchHit] {
        try SearchBounds.check(k: k, ef: nil)
        try VectorInput.validate(query, rows: 1, dimension: dimension, metric: metric, kernels: kernels, what: "query")
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: dimension) { prepared in
            VectorInput.copy(
                query.baseAddress!, to: prepared.baseAddress!, count: dimension, normalize: metric == .cosine,
                kernels: kernels)
            var heap = NeighborHeap<MaxFirst>(capacity: k + 1)
            lock.withReadLock { scan(prepared.baseAddress!, k: k, filter: filter, into: &heap) }
            return hits(from: &heap)
        }
    }

    /// Searches a batch of queries laid end to end, as one matrix product per
    /// block of stored rows, and writes each query's hits into
    /// `hits[q*k ..< q*k + counts[q]]`, closest first.
    ///
    /// - Throws: as ``search(_:k:filter:)``, and
    ///   ``SearchError/Code/invalidArgument`` when the output buffers are too small.
    /// - Complexity: O(queries × n × `dimension`), at GEMM speed.
    public func search<Filter: SearchFilter>(
        batch queries: UnsafeBufferPointer<Float>, k: Int, filter: Filter,
        into hits: UnsafeMutableBufferPointer<SearchHit>, counts: UnsafeMutableBufferPointer<Int>
    ) throws(SearchError) {
        try SearchBounds.check(k: k, ef: nil)
        guard queries.count % dimension == 0 else {
            throw SearchError(
                .dimensionMismatch,
                "a batch of \(queries.count) floats is not a whole number of \(dimension)-component queries")
        }
        let queryCount = queries.count / dimension
        guard counts.count >= queryCount, hits.count >= queryCount * k else {
            throw SearchError(
                .invalidArgument, "output buffers too small for \(queryCount) queries × k = \(k)")
        }
        try VectorInput.validate(
            queries, rows: queryCount, dimension: dimension, metric: metric, kernels: kernels, what: "query")
        guard queryCount > 0 else { return }
        let prepared = UnsafeMutablePointer<Float>.allocate(capacity: queries.count)
        defer { prepared.deallocate() }
        for q in 0..<queryCount {
            VectorInput.copy(
                queries.baseAddress! + q * dimension, to: prepared + q * dimension, count: dimension,
                normalize: metric == .cosine, kernels: kernels)
        }
        let queryBlock = min(queryCount, 256)
        let rowBlock = 2048
        let products = UnsafeMutablePointer<Float>.allocate(capacity: queryBlock * rowBlock)
        defer { products.deallocate() }
        let heapStorage = UnsafeMutablePointer<Neighbor>.allocate(capacity: queryBlock * k)
        defer { heapStorage.deallocate() }
        var heapCounts = [Int](repeating: 0, count: queryBlock)
        lock.withReadLock {
            let n = state.rows.count
            var q0 = 0
            while q0 < queryCount {
                let qn = min(queryBlock, queryCount - q0)
                for q in 0..<qn { heapCounts[q] = 0 }
                var r0 = 0
                while r0 < n {
                    let rn = min(rowBlock, n - r0)
                    BLAS.sgemm(
                        m: qn, n: rn, k: dimension, a: prepared + q0 * dimension, lda: dimension,
                        b: state.rows.row(r0), ldb: dimension, transposeB: true, c: products, ldc: rn)
                    for q in 0..<qn {
                        let row = products + q * rn
                        let queryNorm = metric == .squaredL2
                            ? kernels.sumOfSquares(prepared + (q0 + q) * dimension, count: dimension) : 0
                        let heap = heapStorage + q * k
                        for r in 0..<rn {
                            let slot = r0 + r
                            guard filter.allows(state.ids[slot]) else { continue }
                            let distance = metric == .squaredL2
                                ? max(queryNorm + state.squaredNorms[slot] - 2 * row[r], 0) : 1 - row[r]
                            HeapOps<MaxFirst>.offer(
                                Neighbor(distance: distance, slot: UInt32(slot)), k: k, into: heap,
                                count: &heapCounts[q])
                        }
                    }
                    r0 += rn
                }
                for q in 0..<qn {
                    let found = UnsafeMutableBufferPointer(start: heapStorage + q * k, count: heapCounts[q])
                    let out = q0 + q
                    var j = 0
                    for neighbor in found {
                        hits[out * k + j] = SearchHit(id: state.ids[Int(neighbor.slot)], distance: neighbor.distance)
                        j += 1
                    }
                    var written = UnsafeMutableBufferPointer(rebasing: hits[(out * k)..<(out * k + j)])
                    written.sort(by: SearchHit.closerFirst)
                    counts[out] = j
                }
                q0 += qn
            }
        }
    }

    /// Scans every stored row with the one-to-many kernel. Caller holds the lock.
    func scan<Filter: SearchFilter>(
        _ query: UnsafePointer<Float>, k: Int, filter: Filter, into heap: inout NeighborHeap<MaxFirst>
    ) {
        let n = state.rows.count
        let block = 256
        withUnsafeTemporaryAllocation(of: Float.self, capacity: block) { scores in
            let out = scores.baseAddress!
            var r0 = 0
            while r0 < n {
                let rn = min(block, n - r0)
                let rows = state.rows.row(r0)
                switch metric {
                case .squaredL2:
                    kernels.squaredL2(query, rows: rows, stride: dimension, rowCount: rn, count: dimension, into: out)
                case .innerProduct, .cosine:
                    kernels.dot(query, rows: rows, stride: dimension, rowCount: rn, count: dimension, into: out)
                }
                for r in 0..<rn {
                    let slot = r0 + r
                    guard filter.allows(state.ids[slot]) else { continue }
                    let distance = metric == .squaredL2 ? out[r] : 1 - out[r]
                    let candidate = Neighbor(distance: distance, slot: UInt32(slot))
                    if heap.count < k {
                        heap.push(candidate)
                    } else if distance < heap.top.distance {
                        heap.replaceTop(candidate)
                    }
                }
                r0 += rn
            }
        }
    }

    /// Empties `heap` into hits, closest first (ties by smaller id).
    func hits(from heap: inout NeighborHeap<MaxFirst>) -> [SearchHit] {
        var result = heap.elements.map { SearchHit(id: state.ids[Int($0.slot)], distance: $0.distance) }
        result.sort(by: SearchHit.closerFirst)
        heap.removeAll()
        return result
    }
}
