import ANNIndex
import SearchCore
import Testing
import _TestSupport

/// A hand-written filter struct: the index is generic over it.
struct ModuloFilter: SearchFilter {
    let modulus: UInt64
    func allows(_ id: VectorID) -> Bool { id.rawValue % modulus == 0 }
}

@Suite("HNSW filters")
struct HNSWFilterTests {
    static let index = Result { try HNSWFixture.build() }
    static let flat = Result { try HNSWFixture.oracle() }

    @Test("exactly min(k, allowed) hits, all allowed, at every selectivity",
          arguments: [0.001, 0.01, 0.1, 0.5])
    func exactlyK(selectivity: Double) throws {
        let index = try Self.index.get()
        let n = HNSWFixture.data.count
        var random = SeededGenerator(seed: UInt64(selectivity * 1e6))
        let allowed = Array((0..<n).shuffled(using: &random).prefix(max(1, Int(Double(n) * selectivity))))
            .map { VectorID(UInt64($0)) }
        let allowSet = Set(allowed)
        for filter in [AllowList(allowed)] {
            for q in 0..<20 {
                let hits = try index.search(HNSWFixture.data.query(q), k: 10, filter: filter)
                #expect(hits.count == min(10, allowed.count))
                #expect(hits.allSatisfy { allowSet.contains($0.id) })
                #expect(Set(hits.map(\.id)).count == hits.count)
            }
        }
        let bits = IDBitSet(allowed)
        #expect(bits.count == allowed.count)
        let viaBits = try index.search(HNSWFixture.data.query(0), k: 10, filter: bits)
        #expect(viaBits.count == min(10, allowed.count) && viaBits.allSatisfy { allowSet.contains($0.id) })
    }

    @Test("filtered recall@10 per selectivity", arguments: [0.001, 0.01, 0.1, 0.5])
    func filteredRecall(selectivity: Double) throws {
        let index = try Self.index.get()
        let flat = try Self.flat.get()
        let n = HNSWFixture.data.count
        var random = SeededGenerator(seed: 77)
        let allowed = AllowList((0..<n).shuffled(using: &random).prefix(max(1, Int(Double(n) * selectivity)))
            .map { VectorID(UInt64($0)) })
        let recall = try HNSWFixture.recall(index, flat, filter: allowed)
        // Below the exact-scan threshold (2%) the answer is exact; above it the traversal keeps recall high.
        #expect(recall >= (selectivity < 0.02 ? 0.999 : 0.9), "filtered recall@10 = \(recall) at \(selectivity)")
    }

    @Test("a custom generic filter and a deny list")
    func genericFilters() throws {
        let index = try Self.index.get()
        let flat = try Self.flat.get()
        let recall = try HNSWFixture.recall(index, flat, filter: ModuloFilter(modulus: 3))
        #expect(recall >= 0.9, "recall@10 = \(recall)")
        let rare = try index.search(HNSWFixture.data.query(1), k: 10, filter: ModuloFilter(modulus: 1_000))
        #expect(rare.map(\.id.rawValue).sorted() == [0, 1_000, 2_000])
        let exact = try flat.search(HNSWFixture.data.query(2), k: 5)
        let denied = try index.search(HNSWFixture.data.query(2), k: 5, filter: DenyList(exact.map(\.id)))
        #expect(denied.count == 5 && Set(denied.map(\.id)).isDisjoint(with: exact.map(\.id)))
        let none = try index.search(HNSWFixture.data.query(3), k: 10, filter: AllowList([]))
        #expect(none.isEmpty)
    }
}
