import ANNIndex
import Foundation
import MilvusAdapter
import SearchCore
import Testing

@Suite("MilvusIndex recall and failures")
struct MilvusRecallTests {
    /// Milvus's HNSW and ours, with the same M, efConstruction and ef (64) on
    /// the same vectors, after a flush, find the same share of the exact
    /// neighbours (within 0.05 over 1000 query-neighbour pairs). ef = 10 is
    /// measured and printed, not asserted. On milvus-lite 3.2.2 this compares
    /// little: Lite answered exactly (recall 1.0 at ef 64 and at ef 10, where
    /// ours gives about 0.66), so it did not search an HNSW graph here; the
    /// comparison means something only against a Milvus server (`MILVUS_URI`).
    @Test("recall@10 equals the in-process HNSW's within noise (M 16, efConstruction 200, ef 64, after a flush)")
    func recallMatchesOurHNSW() async throws {
        let dimension = 32
        let count = 4000
        let k = 10
        var generator = Vectors(seed: 11)
        let vectors = generator.make(count, dimension: dimension)
        let queries = generator.make(100, dimension: dimension)
        let ids = (0..<count).map { VectorID(UInt64($0)) }

        let milvus = try await MilvusIndex.open(
            MilvusCollection(
                name: TestServer.uniqueName("recall"), dimension: dimension, metric: .squaredL2,
                index: .hnsw(m: 16, efConstruction: 200)),
            configuration: try TestServer.configuration(), searchParameters: MilvusSearchParameters(ef: 64))
        defer { milvus.close() }
        try await milvus.add(vectors, ids: ids)
        try await milvus.flush()
        let remote = try await milvus.search(batch: queries, k: k, filter: NoFilter())
        let narrow = try await MilvusIndex.open(
            milvus.collection, configuration: milvus.configuration, searchParameters: MilvusSearchParameters(ef: 10))
        defer { narrow.close() }
        let remoteNarrow = try await narrow.search(batch: queries, k: k, filter: NoFilter())

        var configuration = HNSWIndex.Configuration()
        configuration.m = 16
        configuration.efConstruction = 200
        configuration.efSearch = 64
        let local = try HNSWIndex(dimension: dimension, metric: .squaredL2, configuration: configuration)
        try local.add(vectors, ids: ids)

        var remoteFound = 0
        var localFound = 0
        var remoteNarrowFound = 0
        var localNarrowFound = 0
        for q in 0..<100 {
            let truth = Set(
                bruteForce(queries.row(q, dimension), vectors: vectors, ids: ids, dimension: dimension, metric: .squaredL2, k: k).map(\.0))
            remoteFound += remote[q].filter { truth.contains($0.id) }.count
            localFound += try local.search(Array(queries.row(q, dimension)), k: k).filter { truth.contains($0.id) }.count
            remoteNarrowFound += remoteNarrow[q].filter { truth.contains($0.id) }.count
            localNarrowFound += try local.search(Array(queries.row(q, dimension)), k: k, ef: 10).filter { truth.contains($0.id) }.count
        }
        let remoteRecall = Double(remoteFound) / Double(100 * k)
        let localRecall = Double(localFound) / Double(100 * k)
        print("recall@10 over 100 queries at ef 64: Milvus \(remoteRecall), in-process HNSW \(localRecall)")
        print(
            "recall@10 over 100 queries at ef 10 (not asserted): Milvus \(Double(remoteNarrowFound) / 1000), in-process HNSW \(Double(localNarrowFound) / 1000)")
        // 1000 (query, neighbour) pairs: a binomial standard error of about
        // 0.01 near 0.9, so 0.05 is five of them.
        #expect(abs(remoteRecall - localRecall) <= 0.05)
        #expect(remoteRecall >= 0.9)
        _ = try await MilvusIndex.drop(milvus.collection.name, configuration: milvus.configuration)
    }

    /// The server dies (SIGKILL) while batches are being written: the write in
    /// flight fails with a typed error, every batch acknowledged before it is
    /// there after the restart, and the same index object reconnects.
    @Test(
        "a server killed mid-insert gives a typed error and no false acknowledgement; the index reconnects",
        .enabled(if: TestServer.isLocal, "needs a server this test can kill: unset MILVUS_URI"))
    func killedMidInsert() async throws {
        let server = try MilvusLiteServer()
        var configuration = try MilvusConfiguration(uri: server.uri)
        configuration.deadline = .seconds(20)
        configuration.retries = 7  // 0.2 s … 12.8 s: covers a restart
        let dimension = 16
        let collection = MilvusCollection(name: "mms_killed", dimension: dimension, metric: .squaredL2)
        let index = try await MilvusIndex.open(collection, configuration: configuration)
        defer { index.close() }

        let batch = 1000
        let writer = Task { () -> (acknowledged: [VectorID], failure: SearchError?) in
            var generator = Vectors(seed: 12)
            var acknowledged: [VectorID] = []
            for b in 0..<10_000 {
                let ids = (0..<batch).map { VectorID(UInt64(b * batch + $0)) }
                do {
                    try await index.add(generator.make(batch, dimension: dimension), ids: ids)
                } catch let error as SearchError {
                    return (acknowledged, error)
                } catch {
                    return (acknowledged, SearchError(.io, "untyped: \(error)"))
                }
                acknowledged += ids
            }
            return (acknowledged, nil)
        }
        // Let a few batches land, then kill the server while the writer runs.
        let clock = ContinuousClock()
        let started = clock.now
        while try await index.exactCount() < 3 * batch, clock.now - started < .seconds(120) {
            try await Task.sleep(for: .milliseconds(50))
        }
        server.kill()
        let (acknowledged, failure) = await writer.value
        let error = try #require(failure, "the writer finished without noticing the server died")
        #expect(error.code == .io)
        #expect(error.message.contains("write it again") || error.message.contains("unreachable"))
        #expect(acknowledged.count >= 3 * batch)

        try server.start()
        // The same object: its transport reconnects to the restarted server.
        let present = try await index.remove(acknowledged)
        #expect(present == acknowledged.count, "acknowledged \(acknowledged.count) rows, found \(present) after the restart")
        server.stop()
    }
}
