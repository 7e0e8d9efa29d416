import Foundation
import MultimodalSearch
import SearchCore
import Testing

@testable import SearchService

@Suite struct LifecycleTests {
    @Test func gracefulShutdownDrainsThenClosesTheCollection() async throws {
        let server = try await RunningService.start(encoder: WordHashEncoder(stall: ("slow", 0.5)))
        // A request in flight when shutdown begins still gets its answer.
        async let inFlight = server.json("POST", "/v1/search", ["text": "slow frog"])
        try await Task.sleep(for: .milliseconds(150))
        #expect(server.service.isStopping == false)
        try await server.stop()
        let answered = try await inFlight
        #expect(answered.status == 200, "\(answered.text)")
        #expect(server.service.isStopping)
        // Closed means checkpointed: reopening replays nothing.
        let configuration = SearchEngine.Configuration(textEncoder: WordHashEncoder(), textEncoderName: "word-hash")
        let reopened = try SearchCollection(directory: server.directory, schema: SearchEngine.schema(for: configuration))
        #expect(reopened.recovery.isClean && reopened.recovery.logRecordsReplayed == 0 && reopened.count == 5)
        try reopened.close()
        // And nothing listens any more.
        #expect(throws: (any Error).self) { try HTTPReply.exchange(port: server.port, "GET", "/healthz", body: [], contentType: nil, headers: [:]) }
    }
}
