import ANNIndex
import SearchCore
import Testing
import _TestSupport

/// Run these under ThreadSanitizer too:
///
///     swift test --sanitize=thread --scratch-path .build-ann-tsan --filter ANNIndexTests
///
/// (the whole ANNIndexTests target, parallel construction included, runs clean).
@Suite("HNSW concurrency")
struct HNSWConcurrencyTests {
    @Test("many searches run alongside one writer; every answer is well-formed")
    func searchesWithWriter() async throws {
        let data = ClusteredData(count: 1_600, queries: 40, dimension: 16, clusters: 16, seed: 31)
        var configuration = HNSWFixture.configuration(threads: 2)
        configuration.efConstruction = 64
        let index = try HNSWIndex(dimension: 16, metric: .innerProduct, configuration: configuration)
        try index.add(Array(data.vectors[0..<(800 * 16)]), ids: (0..<800).map { VectorID(UInt64($0)) })
        try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask {
                // The writer: adds the second half in small batches, deletes some, replaces some.
                for start in stride(from: 800, to: 1_600, by: 100) {
                    let rows = Array(data.vectors[(start * 16)..<((start + 100) * 16)])
                    try index.add(rows, ids: (start..<(start + 100)).map { VectorID(UInt64($0)) })
                    try index.remove([VectorID(UInt64(start - 1))])
                }
                return 0
            }
            for reader in 0..<4 {
                group.addTask {
                    var answered = 0
                    for round in 0..<30 {
                        let q = (reader * 30 + round) % data.queryCount
                        let hits = try index.search(data.query(q), k: 10, filter: ModuloFilter(modulus: 2))
                        #expect(hits.count == 10)
                        #expect(hits.allSatisfy { $0.id.rawValue % 2 == 0 })
                        #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.distance <= $1.distance })
                        answered += 1
                    }
                    return answered
                }
            }
            var total = 0
            for try await answered in group { total += answered }
            #expect(total == 120)
        }
        try index.checkInvariants()
        #expect(index.count == 1_600 - 8)
    }
}
