import Evaluation
import SearchCore
import Testing

@Suite struct LatencyTests {
    /// numpy.percentile (method "linear") on seeded log-normal latencies.
    @Test func matchesNumPy() throws {
        let fixture = try Fixtures.json(Fixtures.Latency.self, "latency.json")
        #expect(fixture.cases.count == 5)
        for item in fixture.cases {
            let fromSeconds = try LatencySummary(seconds: item.seconds)
            let fromDurations = try LatencySummary(item.seconds.map { Duration.seconds($0) })
            for summary in [fromSeconds, fromDurations] {
                #expect(summary.count == item.seconds.count)
                let pairs: [(Duration, Double, String)] = [
                    (summary.p50, item.p50, "p50"), (summary.p90, item.p90, "p90"), (summary.p99, item.p99, "p99"),
                    (summary.max, item.max, "max"), (summary.mean, item.mean, "mean"),
                ]
                for (got, want, name) in pairs {
                    let seconds = LatencySummary.seconds(got)
                    #expect(
                        abs(seconds - want) <= Tolerance.relativeLatency * want,
                        "n=\(item.seconds.count) \(name): \(seconds) vs \(want)")
                }
            }
        }
    }

    @Test func percentileDefinition() throws {
        // numpy.percentile([1, 2, 3, 4], [50, 90, 99]) == [2.5, 3.7, 3.97]
        #expect(try Percentile.linear(50, of: [4, 1, 3, 2]) == 2.5)
        #expect(isClose(try Percentile.linear(90, of: [4, 1, 3, 2]), 3.7, 1e-15))
        #expect(isClose(try Percentile.linear(99, of: [4, 1, 3, 2]), 3.97, 1e-15))
        #expect(try Percentile.linear(0, of: [4, 1, 3, 2]) == 1)
        #expect(try Percentile.linear(100, of: [4, 1, 3, 2]) == 4)
        #expect(try Percentile.linear(37, of: [5]) == 5)
        #expect(throws: SearchError.self) { try Percentile.linear(101, of: [1]) }
        #expect(throws: SearchError.self) { try Percentile.linear(50, of: []) }
    }

    @Test func emptyOrNonFiniteThrows() throws {
        #expect(throws: SearchError.self) { try LatencySummary([Duration]()) }
        #expect(throws: SearchError.self) { try LatencySummary(seconds: [0.1, .nan]) }
        #expect(throws: SearchError.self) { try LatencyRecorder().summary() }
    }

    @Test func recorderRecords() throws {
        var recorder = LatencyRecorder(reservingCapacity: 3)
        recorder.record(.milliseconds(3))
        recorder.record(.milliseconds(1))
        let value = recorder.measure { 41 + 1 }
        #expect(value == 42)
        #expect(recorder.durations.count == 3)
        var other = LatencyRecorder()
        other.record(.milliseconds(2))
        recorder.append(contentsOf: other)
        let summary = try recorder.summary()
        #expect(summary.count == 4)
        #expect(summary.max == .milliseconds(3))
        #expect(summary.description.hasPrefix("n=4 p50="))
    }
}
