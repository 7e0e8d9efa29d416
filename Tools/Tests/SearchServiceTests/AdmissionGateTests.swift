import Foundation
import Synchronization
import Testing

@testable import SearchService

/// A clock that moves only when told.
private final class ManualClock: Sendable {
    private let instant = Mutex(ContinuousClock.now)
    var now: ContinuousClock.Instant { instant.withLock { $0 } }
    func advance(_ d: Duration) { instant.withLock { $0 += d } }
}

private func admitted(_ result: Result<AdmissionGate.Turn, AdmissionGate.Refusal>) -> AdmissionGate.Turn? {
    try? result.get()
}

@Suite struct AdmissionGateTests {
    /// Waits until `n` requests wait at the gate (the tasks that enter run concurrently).
    private func waitUntil(_ gate: AdmissionGate, waiting n: Int) async throws {
        for _ in 0..<2_000 where gate.waiting < n { try await Task.sleep(for: .milliseconds(5)) }
        #expect(gate.waiting == n)
    }

    @Test func withoutAMaximumWaitOnlyTheQueueLengthRefuses() async throws {
        let gate = AdmissionGate(limit: 1, queueLimit: 1)
        let firstResult = await gate.enter()
        let first = try #require(admitted(firstResult))
        let second = Task { await gate.enter() }
        try await waitUntil(gate, waiting: 1)
        let refusal = await gate.enter()
        #expect(refusal == .failure(.queueFull))
        gate.leave(first)
        let turnResult = await second.value
        let turn = try #require(admitted(turnResult))
        gate.leave(turn)
        #expect(gate.running == 0 && gate.waiting == 0)
    }

    @Test func waitersPastTheMaximumWaitAreRefusedWhenATurnFrees() async throws {
        let clock = ManualClock()
        let gate = AdmissionGate(limit: 1, queueLimit: 8, maxWait: .milliseconds(100), now: { clock.now })
        let firstResult = await gate.enter()
        let first = try #require(admitted(firstResult))
        let old1 = Task { await gate.enter() }
        try await waitUntil(gate, waiting: 1)
        let old2 = Task { await gate.enter() }
        try await waitUntil(gate, waiting: 2)
        clock.advance(.milliseconds(150))
        // No turn has ended yet, so there is no estimate: a newcomer waits.
        let fresh = Task { await gate.enter() }
        try await waitUntil(gate, waiting: 3)
        gate.leave(first)
        let firstOld = await old1.value
        #expect(firstOld == .failure(.waitedTooLong))
        let secondOld = await old2.value
        #expect(secondOld == .failure(.waitedTooLong))
        let turnResult = await fresh.value
        let turn = try #require(admitted(turnResult))
        #expect(gate.running == 1 && gate.waiting == 0)
        gate.leave(turn)
        #expect(gate.running == 0)
    }

    @Test func arrivalsExpectedToWaitTooLongAreRefusedAtOnce() async throws {
        let clock = ManualClock()
        let gate = AdmissionGate(limit: 2, queueLimit: 100, maxWait: .milliseconds(100), now: { clock.now })
        // Two turns held 80 ms each: two turns free every 80 ms, 40 ms per place in the line.
        let aResult = await gate.enter()
        let a = try #require(admitted(aResult))
        let bResult = await gate.enter()
        let b = try #require(admitted(bResult))
        clock.advance(.milliseconds(80))
        gate.leave(a)
        gate.leave(b)
        let hold = try #require(gate.meanHold)
        #expect(abs(AdmissionGate.seconds(hold) - 0.080) < 1e-9)
        let xResult = await gate.enter()
        let x = try #require(admitted(xResult))
        let yResult = await gate.enter()
        let y = try #require(admitted(yResult))
        // First in line: 40 ms expected; second: 80 ms; both wait.
        let w1 = Task { await gate.enter() }
        try await waitUntil(gate, waiting: 1)
        let w2 = Task { await gate.enter() }
        try await waitUntil(gate, waiting: 2)
        // Third: 120 ms > 100 ms, refused without waiting (the queue has room).
        let refusal = await gate.enter()
        #expect(refusal == .failure(.expectedWaitTooLong))
        #expect(gate.waiting == 2)
        gate.leave(x)
        gate.leave(y)
        let t1Result = await w1.value
        let t1 = try #require(admitted(t1Result))
        let t2Result = await w2.value
        let t2 = try #require(admitted(t2Result))
        gate.leave(t1)
        gate.leave(t2)
        #expect(gate.running == 0 && gate.waiting == 0)
    }

    @Test func theServiceEchoesRequestIDsAndRefusesLongWaitsWith503() async throws {
        // One turn, a wait of at most 50 ms; the encoder stalls 400 ms on "slow", so whoever queues behind it is refused.
        let server = try await RunningService.start(
            {
                $0.maxConcurrent = 1
                $0.maxQueued = 16
                $0.maxQueueWait = .milliseconds(50)
                $0.queryCache = false
            }, encoder: WordHashEncoder(stall: ("slow", 0.4)))
        #expect(server.service.gate.maxWait == .milliseconds(50))
        let echoed = try await server.request("GET", "/healthz", headers: ["X-Request-ID": "probe-17"])
        #expect(echoed.headers["x-request-id"] == "probe-17")
        let replies = try await withThrowingTaskGroup(of: HTTPReply.self) { group in
            group.addTask { try await server.json("POST", "/v1/search", ["text": "slow query"]) }
            try await Task.sleep(for: .milliseconds(100))
            for i in 0..<3 {
                group.addTask { try await server.request("POST", "/v1/search", body: Array(#"{"text": "query \#(i)"}"#.utf8),
                                                         contentType: "application/json", headers: ["X-Request-ID": "q\(i)"]) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let statuses = replies.map(\.status).sorted()
        #expect(statuses == [200, 503, 503, 503], "\(statuses)")
        for reply in replies where reply.status == 503 {
            #expect(reply.errorCode == "overloaded" && reply.headers["retry-after"] == "1")
            #expect(reply.headers["x-request-id"]?.hasPrefix("q") == true)
        }
        let metrics = try await server.request("GET", "/metrics").text
        #expect(metrics.contains(#"mms_rejected_requests_total{reason="queue_wait"}"#), "\(metrics)")
        #expect(metrics.contains(#"mms_http_request_duration_seconds_bucket{route="/v1/search",status="503",le="0.3"}"#))
        try await server.stop()
    }
}
