import Ranking
import SearchCore
import Synchronization

/// A tiny exact ``VectorIndex`` for tests (inner product), so the two-tower
/// retriever is exercised through the protocol without ANNIndex.
final class BruteForceIndex: VectorIndex {
    let dimension: Int
    let metric: Metric = .innerProduct
    private let rows: Mutex<[VectorID: [Float]]> = Mutex([:])

    init(dimension: Int) { self.dimension = dimension }

    var count: Int { rows.withLock { $0.count } }

    func add(_ vectors: UnsafeBufferPointer<Float>, ids: [VectorID]) throws(SearchError) {
        try SearchError.checkDimension(vectors.count, expected: ids.count * dimension, "batch")
        rows.withLock { table in
            for (k, id) in ids.enumerated() { table[id] = Array(vectors[(k * dimension)..<((k + 1) * dimension)]) }
        }
    }

    func remove(_ ids: [VectorID]) throws(SearchError) -> Int {
        rows.withLock { table in ids.reduce(0) { $0 + (table.removeValue(forKey: $1) == nil ? 0 : 1) } }
    }

    func search<Filter: SearchFilter>(_ query: UnsafeBufferPointer<Float>, k: Int, filter: Filter) throws(SearchError) -> [SearchHit] {
        try SearchError.checkDimension(query.count, expected: dimension, "query")
        guard k > 0 else { throw SearchError(.invalidArgument, "k must be positive") }
        let hits = rows.withLock { table in
            table.compactMap { id, v -> SearchHit? in
                guard filter.allows(id) else { return nil }
                var dot: Float = 0
                for j in 0..<dimension { dot += v[j] * query[j] }
                return SearchHit(id: id, distance: 1 - dot)
            }
        }
        return Array(hits.sorted(by: SearchHit.closerFirst).prefix(k))
    }
}
