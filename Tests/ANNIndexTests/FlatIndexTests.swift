import ANNIndex
import SearchCore
import Testing
import _TestSupport

@Suite("FlatIndex")
struct FlatIndexTests {
    /// Brute force in plain Swift, in double precision: the oracle's oracle.
    static func bruteForce(_ data: [Float], dimension: Int, query: [Float], k: Int, metric: Metric) -> [(Int, Double)] {
        func unit(_ v: ArraySlice<Float>) -> [Double] {
            let n = v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            return v.map { Double($0) / n }
        }
        let q = metric == .cosine ? unit(query[...]) : query.map(Double.init)
        var scored: [(Int, Double)] = []
        for r in 0..<(data.count / dimension) {
            let raw = data[(r * dimension)..<((r + 1) * dimension)]
            let x = metric == .cosine ? unit(raw) : raw.map(Double.init)
            let d: Double = switch metric {
            case .squaredL2: zip(q, x).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
            case .innerProduct, .cosine: 1 - zip(q, x).reduce(0) { $0 + $1.0 * $1.1 }
            }
            scored.append((r, d))
        }
        scored.sort { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
        return Array(scored.prefix(k))
    }

    @Test("matches brute force under every metric", arguments: Metric.allCases)
    func exact(metric: Metric) throws {
        var random = SeededGenerator(seed: 11)
        let (n, d) = (300, 24)
        let data = random.gaussians(n * d)
        let index = FlatIndex(dimension: d, metric: metric)
        try index.add(data, ids: (0..<n).map { VectorID(UInt64($0)) })
        #expect(index.count == n)
        for _ in 0..<10 {
            let query = random.gaussians(d)
            let hits = try index.search(query, k: 7)
            let truth = Self.bruteForce(data, dimension: d, query: query, k: 7, metric: metric)
            #expect(hits.count == 7)
            for (hit, (row, distance)) in zip(hits, truth) {
                // Float32 SIMD sums of 24 products of O(1) terms: within 1e-4 of the double result.
                #expect(abs(Double(hit.distance) - distance) < 1e-4 * max(1, abs(distance)))
                // The same row, unless two rows tie within that tolerance.
                #expect(hit.id == VectorID(UInt64(row)) || abs(Double(hit.distance) - distance) < 1e-4)
            }
        }
    }

    @Test("a GEMM batch gives the same hits as single queries", arguments: Metric.allCases)
    func batch(metric: Metric) throws {
        var random = SeededGenerator(seed: 12)
        let (n, d, q, k) = (2_500, 16, 9, 5)
        let index = FlatIndex(dimension: d, metric: metric)
        try index.add(random.gaussians(n * d), ids: (0..<n).map { VectorID(UInt64($0)) })
        let queries = random.gaussians(q * d)
        var hits = [SearchHit](repeating: SearchHit(id: 0, distance: 0), count: q * k)
        var counts = [Int](repeating: 0, count: q)
        try queries.withUnsafeBufferPointer { queries in
            try hits.withUnsafeMutableBufferPointer { hits in
                try counts.withUnsafeMutableBufferPointer { counts in
                    try index.search(batch: queries, k: k, filter: NoFilter(), into: hits, counts: counts)
                }
            }
        }
        for i in 0..<q {
            let single = try index.search(Array(queries[(i * d)..<((i + 1) * d)]), k: k)
            #expect(counts[i] == k)
            #expect(Array(hits[(i * k)..<((i + 1) * k)]).map(\.id) == single.map(\.id))
            for (a, b) in zip(hits[(i * k)..<((i + 1) * k)], single) {
                // GEMM and the dot kernel sum in different orders: 1e-4 relative for |d| ≲ 50.
                #expect(abs(a.distance - b.distance) < 1e-4 * max(1, abs(b.distance)))
            }
        }
    }

    @Test("filters, deletes and replacement")
    func filtersAndDeletes() throws {
        var random = SeededGenerator(seed: 13)
        let (n, d) = (200, 8)
        let data = random.gaussians(n * d)
        let index = FlatIndex(dimension: d, metric: .squaredL2)
        try index.add(data, ids: (0..<n).map { VectorID(UInt64($0)) })
        let query = random.gaussians(d)
        let even = try index.search(query, k: 10, filter: PredicateFilter { $0.rawValue % 2 == 0 })
        #expect(even.count == 10 && even.allSatisfy { $0.id.rawValue % 2 == 0 })
        let few = try index.search(query, k: 10, filter: AllowList([1, 2, 3]))
        #expect(Set(few.map(\.id)) == [1, 2, 3])
        let nearest = try index.search(query, k: 3)
        #expect(try index.remove(nearest.map(\.id) + [999]) == 3)
        #expect(index.count == n - 3)
        let after = try index.search(query, k: n)
        #expect(after.count == n - 3)
        #expect(Set(after.map(\.id)).isDisjoint(with: nearest.map(\.id)))
        try index.add(query, id: 5)
        #expect(index.count == n - 3)
        #expect(try index.search(query, k: 1).first?.id == 5)
    }

    @Test("bad input throws typed errors")
    func badInput() throws {
        let index = FlatIndex(dimension: 4, metric: .cosine)
        #expect(try index.search([1, 0, 0, 0], k: 3).isEmpty)
        #expect(throws: SearchError.self) { try index.add([1, 2, 3], id: 1) }
        #expect(throws: SearchError.self) { try index.add([0, 0, 0, 0], id: 1) }
        #expect(throws: SearchError.self) { try index.add([.nan, 0, 0, 1], id: 1) }
        #expect(throws: SearchError.self) { try index.add([1, 0, 0, 0, 0, 1, 0, 0], ids: [3, 3]) }
        #expect(index.count == 0)
        try index.add([1, 0, 0, 0], id: 1)
        #expect(throws: SearchError.self) { try index.search([1, 0, 0, 0], k: 0) }
        #expect(throws: SearchError.self) { try index.search([1, 0, .infinity, 0], k: 1) }
        #expect(throws: SearchError.self) { try index.search([1, 0, 0], k: 1) }
    }
}
