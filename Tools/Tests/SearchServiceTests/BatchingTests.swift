import Foundation
import MultimodalSearch
import SearchCore
import Testing

@testable import SearchService

@Suite struct BatchingTests {
    static func burst(_ server: RunningService, _ count: Int) async throws -> [HTTPReply] {
        try await withThrowingTaskGroup(of: HTTPReply.self) { group in
            for i in 0..<count { group.addTask { try await server.json("POST", "/v1/search", ["text": "frog number \(i)"]) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    @Test func concurrentQueriesShareEncoderPasses() async throws {
        // A wait long enough that a burst of requests always meets in one batch.
        let server = try await RunningService.start {
            $0.maxWait = .milliseconds(200)
            $0.maxBatch = 64
        }
        let before = server.encoder.stats.withLock { $0 }
        let replies = try await Self.burst(server, 24)
        #expect(replies.allSatisfy { $0.status == 200 })
        let after = server.encoder.stats.withLock { $0 }
        #expect(after.texts - before.texts == 24)
        #expect(after.calls - before.calls < 24, "24 queries took \(after.calls - before.calls) encoder calls")
        #expect(after.largestBatch > 1)
        let metrics = try await server.request("GET", "/metrics").text
        #expect(metrics.contains(#"mms_encoder_batches_total{encoder="text"}"#))
        #expect(metrics.contains(#"mms_encoder_batch_size_bucket{encoder="text""#))
        try await server.stop()
    }

    @Test func withBatchingOffEveryQueryIsEncodedAlone() async throws {
        let server = try await RunningService.start { $0.batching = false }
        let before = server.encoder.stats.withLock { $0 }
        let replies = try await Self.burst(server, 12)
        #expect(replies.allSatisfy { $0.status == 200 })
        let after = server.encoder.stats.withLock { $0 }
        #expect(after.calls - before.calls == 12 && after.largestBatch == 1)
        try await server.stop()
    }

    @Test func repeatedQueriesHitTheCache() async throws {
        let server = try await RunningService.start()
        let first = try await server.json("POST", "/v1/search", ["text": "violin strings"])
        let second = try await server.json("POST", "/v1/search", ["text": "violin strings"])
        #expect(first.object["queryCache"] as? String == "miss" && second.object["queryCache"] as? String == "hit")
        #expect(first.body.count > 0 && (first.object["results"] as? [[String: Any]])?.map { $0["id"] as? Int }
            == (second.object["results"] as? [[String: Any]])?.map { $0["id"] as? Int })
        let metrics = try await server.request("GET", "/metrics").text
        #expect(metrics.contains("mms_query_cache_hits_total 1") && metrics.contains("mms_query_cache_misses_total 1"), "\(metrics)")
        #expect(metrics.contains("mms_query_cache_hit_ratio 0.5"))
        try await server.stop()

        let off = try await RunningService.start { $0.queryCache = false }
        _ = try await off.json("POST", "/v1/search", ["text": "violin strings"])
        let again = try await off.json("POST", "/v1/search", ["text": "violin strings"])
        #expect(again.object["queryCache"] as? String == "off")
        #expect(off.encoder.stats.withLock { $0.calls } >= 2 + 1)  // ingest's pass, then both queries
        try await off.stop()
    }

    @Test func aBadInputFailsOnlyItsOwnRequest() {
        let results = QueryEmbedder.each(3) { () throws(SearchError) -> [Int] in
            throw SearchError(.invalidArgument, "one of them is bad")
        } single: { (i: Int) throws(SearchError) -> Int in
            if i == 1 { throw SearchError(.invalidArgument, "bad") }
            return i * 10
        }
        #expect((try? results[0].get()) == 0 && (try? results[2].get()) == 20)
        #expect((try? results[1].get()) == nil)
    }
}
