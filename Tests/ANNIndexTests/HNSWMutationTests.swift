import ANNIndex
import SearchCore
import Testing
import _TestSupport

@Suite("HNSW deletes, updates, compaction and bad input")
struct HNSWMutationTests {
    @Test("deleted vectors are never returned, and exactly k come back", arguments: VectorEncoding.allCases)
    func deletes(encoding: VectorEncoding) throws {
        let data = ClusteredData(count: 1_200, queries: 40, dimension: 24, clusters: 12, seed: 21)
        let index = try HNSWFixture.build(data, encoding: encoding)
        let flat = try HNSWFixture.oracle(data)
        // Delete every true top-3 of every query, and a third of everything.
        var gone = Set<VectorID>()
        for q in 0..<data.queryCount { gone.formUnion(try flat.search(data.query(q), k: 3).map(\.id)) }
        gone.formUnion(data.ids.filter { $0.rawValue % 3 == 0 })
        #expect(try index.remove(Array(gone)) == gone.count)
        #expect(try flat.remove(Array(gone)) == gone.count)
        #expect(try index.remove(Array(gone)) == 0)
        #expect(index.count == data.count - gone.count)
        try index.checkInvariants()
        for q in 0..<data.queryCount {
            let hits = try index.search(data.query(q), k: 10)
            #expect(hits.count == 10)
            #expect(hits.allSatisfy { !gone.contains($0.id) })
        }
        let recall = try HNSWFixture.recall(index, flat, data: data)
        #expect(recall >= 0.9, "recall@10 after deletes = \(recall)")

        let before = index.memory.total
        index.compact()
        try index.checkInvariants()
        #expect(index.count == data.count - gone.count)
        #expect(index.memory.total < before)
        let after = try HNSWFixture.recall(index, flat, data: data)
        #expect(after >= 0.9, "recall@10 after compact = \(after)")
        for q in 0..<5 {
            #expect(try index.search(data.query(q), k: 10).allSatisfy { !gone.contains($0.id) })
        }
    }

    @Test("re-adding an id replaces its vector")
    func replace() throws {
        let data = ClusteredData(count: 500, queries: 2, dimension: 16, clusters: 5, seed: 22)
        let index = try HNSWFixture.build(data)
        let query = data.query(0)
        try index.add(query, id: 7)
        #expect(index.count == data.count)
        #expect(index.contains(7))
        let top = try index.search(query, k: 3)
        #expect(top.first?.id == 7)
        #expect(abs(top.first!.distance) < 1e-5)  // 1 − q·q for a unit q, within float rounding
        #expect(Set(top.map(\.id)).count == 3)
        try index.checkInvariants()
    }

    @Test("every search on an empty index, or after deleting everything, returns nothing")
    func empty() throws {
        let index = try HNSWIndex(dimension: 4, metric: .squaredL2)
        #expect(try index.search([1, 2, 3, 4], k: 5).isEmpty)
        try index.add([1, 2, 3, 4, 4, 3, 2, 1], ids: [1, 2])
        #expect(try index.search([1, 2, 3, 4], k: 5).map(\.id) == [1, 2])
        try index.remove([1, 2])
        #expect(try index.search([1, 2, 3, 4], k: 5).isEmpty)
        try index.checkInvariants()
        index.compact()
        #expect(index.count == 0)
        try index.checkInvariants()
    }

    @Test("bad input throws a typed error and changes nothing")
    func badInput() throws {
        let index = try HNSWIndex(dimension: 4, metric: .cosine)
        func code(_ body: () throws -> Void) -> SearchError.Code? {
            do { try body() } catch let error as SearchError { return error.code } catch { return nil }
            return nil
        }
        #expect(code { try index.add([1, 2, 3], id: 1) } == .dimensionMismatch)
        #expect(code { try index.add([0, 0, 0, 0], id: 1) } == .invalidVector)
        #expect(code { try index.add([1, .nan, 0, 0], id: 1) } == .invalidVector)
        #expect(code { try index.add([1, .infinity, 0, 0], id: 1) } == .invalidVector)
        #expect(code { try index.add([1, 0, 0, 0, 0, 1, 0, 0], ids: [9, 9]) } == .duplicateID)
        #expect(index.count == 0)
        try index.add([1, 0, 0, 0], id: 1)
        #expect(code { _ = try index.search([1, 0, 0, 0], k: 0) } == .invalidArgument)
        #expect(code { _ = try index.search([1, 0, 0, 0], k: 1, ef: 0) } == .invalidArgument)
        #expect(code { _ = try index.search([1, 0, 0], k: 1) } == .dimensionMismatch)
        #expect(code { _ = try index.search([0, 0, 0, 0], k: 1) } == .invalidVector)
        #expect(code { _ = try index.search([.nan, 0, 0, 0], k: 1) } == .invalidVector)

        var configuration = HNSWIndex.Configuration()
        configuration.m = 1
        #expect(code { _ = try HNSWIndex(dimension: 4, metric: .cosine, configuration: configuration) } == .invalidArgument)
        configuration = HNSWIndex.Configuration()
        configuration.efConstruction = 4
        #expect(code { _ = try HNSWIndex(dimension: 4, metric: .cosine, configuration: configuration) } == .invalidArgument)
        #expect(code { _ = try HNSWIndex(dimension: 0, metric: .cosine) } == .invalidArgument)
    }
}
