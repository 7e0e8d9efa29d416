import Foundation
import MultimodalSearch
import SearchCore
import Testing

@testable import SearchService

@Suite struct ProtectionTests {
    @Test func bodiesOverTheLimitAreRefused() async throws {
        let server = try await RunningService.start { $0.maxBodyBytes = 4_096 }
        let big = try await server.request(
            "POST", "/v1/search", body: Array(#"{"text": "\#(String(repeating: "a", count: 10_000))"}"#.utf8), contentType: "application/json")
        #expect(big.status == 413 && big.errorCode == "payloadTooLarge")
        let longText = try await server.json("POST", "/v1/search", ["text": String(repeating: "frog ", count: 900)])
        #expect(longText.status == 400)
        let fine = try await server.json("POST", "/v1/search", ["text": "frog"])
        #expect(fine.status == 200)
        try await server.stop()
    }

    @Test func picturesOverTheDecodingLimitAreRefused() async throws {
        let server = try await RunningService.start({ $0.maxPicturePixels = 100 }, pictures: true)
        let reply = try await server.request("POST", "/v1/search", body: try fixture("orientation1.jpg"), contentType: "image/jpeg")
        #expect(reply.status == 413 && reply.errorCode == "resourceLimit", "\(reply.text)")
        try await server.stop()
    }

    @Test func overloadAnswers503WithRetryAfter() async throws {
        // One request at a time, none waiting; the encoder stalls on "slow".
        let server = try await RunningService.start(
            {
                $0.maxConcurrent = 1
                $0.maxQueued = 0
                $0.queryCache = false
            }, encoder: WordHashEncoder(stall: ("slow", 0.5)))
        let replies = try await withThrowingTaskGroup(of: HTTPReply.self) { group in
            for i in 0..<6 { group.addTask { try await server.json("POST", "/v1/search", ["text": "slow query \(i)"]) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let statuses = replies.map(\.status)
        #expect(statuses.allSatisfy { $0 == 200 || $0 == 503 }, "\(statuses)")
        #expect(statuses.contains(200) && statuses.contains(503), "\(statuses)")
        for reply in replies where reply.status == 503 {
            #expect(reply.headers["retry-after"] == "1" && reply.errorCode == "overloaded")
        }
        let metrics = try await server.request("GET", "/metrics").text
        #expect(metrics.contains(#"mms_rejected_requests_total{reason="overloaded"}"#))
        try await server.stop()
    }

    @Test func requestsPastTheirDeadlineAnswer503() async throws {
        let server = try await RunningService.start(
            { $0.deadline = .milliseconds(100) }, encoder: WordHashEncoder(stall: ("slow", 0.4)))
        let reply = try await server.json("POST", "/v1/search", ["text": "slow"])
        #expect(reply.status == 503 && reply.errorCode == "deadlineExceeded" && reply.headers["retry-after"] == "1", "\(reply.text)")
        try await server.stop()
    }

    @Test func corsIsOffUnlessConfigured() async throws {
        let off = try await RunningService.start()
        let plain = try await off.request("GET", "/healthz", headers: ["Origin": "https://example.com"])
        #expect(plain.status == 200 && plain.headers["access-control-allow-origin"] == nil)
        try await off.stop()
        let on = try await RunningService.start { $0.corsOrigin = "https://example.com" }
        let allowed = try await on.request("GET", "/healthz", headers: ["Origin": "https://example.com"])
        #expect(allowed.headers["access-control-allow-origin"] == "https://example.com")
        try await on.stop()
    }

    @Test func theServiceBindsLoopbackByDefault() {
        #expect(ServiceConfiguration().host == "127.0.0.1")
    }
}
