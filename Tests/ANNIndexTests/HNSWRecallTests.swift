import ANNIndex
import SearchCore
import Testing
import _TestSupport

@Suite("HNSW recall, invariants and determinism")
struct HNSWRecallTests {
    @Test("recall@10 ≥ 0.95 at the default ef, and the graph invariants hold", arguments: VectorEncoding.allCases)
    func recall(encoding: VectorEncoding) throws {
        let index = try HNSWFixture.build(encoding: encoding)
        try index.checkInvariants()
        #expect(index.count == HNSWFixture.data.count)
        let recall = try HNSWFixture.recall(index, try HNSWFixture.oracle())
        #expect(recall >= 0.95, "recall@10 = \(recall) with \(encoding)")
    }

    @Test("squared L2 and cosine reach recall@10 ≥ 0.95", arguments: [Metric.squaredL2, .cosine])
    func metrics(metric: Metric) throws {
        let data = ClusteredData(count: 1_500, queries: 50, dimension: 24, clusters: 15, seed: 9)
        let index = try HNSWFixture.build(data, metric: metric)
        try index.checkInvariants()
        let recall = try HNSWFixture.recall(index, try HNSWFixture.oracle(data, metric: metric), data: data)
        #expect(recall >= 0.95, "recall@10 = \(recall) under \(metric)")
    }

    @Test("recall grows with ef and reaches ≥ 0.99")
    func efSweep() throws {
        let index = try HNSWFixture.build()
        let flat = try HNSWFixture.oracle()
        let low = try HNSWFixture.recall(index, flat, ef: 16)
        let high = try HNSWFixture.recall(index, flat, ef: 200)
        #expect(high >= low)
        #expect(high >= 0.99, "recall@10 at ef 200 = \(high)")
    }

    @Test("int8 without kept floats still ranks well, in under half the memory")
    func int8WithoutRescoring() throws {
        var configuration = HNSWFixture.configuration(encoding: .int8)
        configuration.keepsFloat32ForRescoring = false
        let data = HNSWFixture.data
        let index = try HNSWIndex(dimension: data.dimension, metric: .innerProduct, configuration: configuration)
        try index.add(data.vectors, ids: data.ids)
        let recall = try HNSWFixture.recall(index, try HNSWFixture.oracle())
        #expect(recall >= 0.85, "recall@10 = \(recall)")
        #expect(index.memory.rescoring == 0)
        let f32 = try HNSWFixture.build()
        #expect(index.memory.codes < f32.memory.codes / 2)
    }

    @Test("parallel insertion on 2 threads gives a valid graph with the same recall")
    func parallel() throws {
        let index = try HNSWFixture.build(threads: 2)
        try index.checkInvariants()
        let recall = try HNSWFixture.recall(index, try HNSWFixture.oracle())
        #expect(recall >= 0.95, "recall@10 = \(recall)")
    }

    @Test("one thread and one seed give a byte-identical graph, run after run")
    func determinism() throws {
        let data = ClusteredData(count: 1_000, queries: 1, dimension: 16, clusters: 10, seed: 5)
        let a = try HNSWFixture.build(data)
        let b = try HNSWFixture.build(data)
        #expect(a.graphDigest() == b.graphDigest())
        let c = try HNSWFixture.build(data, seed: 101)
        #expect(c.graphDigest() != a.graphDigest())
    }

    @Test("adding in several calls keeps the invariants")
    func incremental() throws {
        let data = ClusteredData(count: 900, queries: 30, dimension: 16, clusters: 9, seed: 6)
        let index = try HNSWIndex(dimension: 16, metric: .innerProduct, configuration: HNSWFixture.configuration())
        for start in stride(from: 0, to: 900, by: 100) {
            let rows = Array(data.vectors[(start * 16)..<((start + 100) * 16)])
            try index.add(rows, ids: (start..<(start + 100)).map { VectorID(UInt64($0)) })
            try index.checkInvariants()
        }
        let recall = try HNSWFixture.recall(index, try HNSWFixture.oracle(data), data: data)
        #expect(recall >= 0.95, "recall@10 = \(recall)")
    }
}
