import Foundation
import SearchCore
import Testing

@testable import Evaluation

@Suite struct ComparisonGateTests {
    /// A baseline and three candidates over 80 queries, per-query NDCG@10
    /// chosen directly: one equal, one a little worse (−0.005 on average),
    /// one clearly worse (−0.05).
    func report() throws -> ComparisonReport {
        var rng = SplitMix64(seed: 5)
        var values: [String: [Double]] = ["base": [], "same": [], "slightly": [], "worse": []]
        for _ in 0..<80 {
            let base = Double.random(in: 0.3...0.9, using: &rng)
            values["base"]!.append(base)
            values["same"]!.append(base)
            values["slightly"]!.append(base - 0.005 + Double.random(in: -0.01...0.01, using: &rng))
            values["worse"]!.append(base - 0.05 + Double.random(in: -0.01...0.01, using: &rng))
        }
        let queries = (0..<80).map { "q\($0)" }
        func evaluation(_ name: String) -> EvaluationReport {
            EvaluationReport(queryIDs: queries, measures: [.ndcg(at: 10)], table: [.ndcg(at: 10): MetricValues(values[name]!)])
        }
        return try ComparisonReport(
            baseline: ("base", evaluation("base")),
            candidates: [("same", evaluation("same")), ("slightly", evaluation("slightly")), ("worse", evaluation("worse"))],
            options: ComparisonOptions(bootstrapSamples: 4_000, permutations: 4_000))
    }

    func cost(p99 milliseconds: Double) throws -> RunCost {
        try RunCost(
            latencies: [0.001, 0.002, milliseconds / 1000], concurrency: 2, wallSeconds: 1, cpuSeconds: 0.5,
            peakMemoryBytes: 100 << 20)
    }

    @Test func nonInferiorityPassesSmallDropsAndFailsLargeOnes() throws {
        let report = try report()
        let gate = ComparisonGate(rules: [.init(measure: "ndcg_cut_10", maxDrop: 0.01, confidence: 0.95)])
        let verdict = try gate.check(report)
        let byCandidate = Dictionary(uniqueKeysWithValues: verdict.checks.map { ($0.candidate, $0.passed) })
        #expect(byCandidate == ["same": true, "slightly": true, "worse": false])
        #expect(!verdict.passed)
        #expect(verdict.description.contains("FAIL  worse ndcg_cut_10"))
        #expect(verdict.description.hasSuffix("gate: FAILED (1 of 3 checks)"))

        // "Not worse at all" fails the slightly worse candidate; the equal one still passes.
        let strict = try ComparisonGate(rules: [.init(measure: "ndcg_cut_10", maxDrop: 0, candidates: ["same", "slightly"])])
            .check(report)
        #expect(strict.checks.map(\.passed) == [true, false])
        // The bound used is the bootstrap's one-sided bound: below the mean difference.
        let row = try #require(report.row(.ndcg(at: 10), candidate: "slightly"))
        let bound = row.comparison.lowerBound(confidence: 0.95, options: report.options)
        #expect(bound < row.comparison.meanDifference && bound > row.comparison.confidenceInterval.lowerBound)
    }

    @Test func costRules() throws {
        let report = try report()
        let costs = try ["same": cost(p99: 10), "slightly": cost(p99: 30), "worse": cost(p99: 5), "base": cost(p99: 8)]
        let gate = ComparisonGate(rules: [
            .init(latency: "p99", maxMilliseconds: 20),
            .init(maxCPUSecondsPerThousandQueries: 100, candidates: ["base"]),
            .init(maxPeakMemoryMB: 50, candidates: ["same"]),
        ])
        let verdict = try gate.check(report, costs: costs)
        #expect(verdict.checks.map(\.passed) == [true, false, true, false, false])
        #expect(verdict.checks[1].message.contains("slightly p99 latency"))
        // Three latencies: p99 interpolates between the two largest (NumPy's linear method).
        #expect(abs(costs["slightly"]!.p99 - (0.002 + 0.98 * (0.030 - 0.002))) < 1e-12)
        #expect(abs(costs["same"]!.cpuSecondsPerThousandQueries - 0.5 / 3 * 1000) < 1e-9)
    }

    @Test func badRulesAreTypedErrors() throws {
        let report = try report()
        func code(_ gate: ComparisonGate, costs: [String: RunCost] = [:]) -> SearchError.Code? {
            do {
                _ = try gate.check(report, costs: costs)
                return nil
            } catch { return error.code }
        }
        #expect(code(ComparisonGate(rules: [.init(measure: "ndcg_10", maxDrop: 0.01)])) == .invalidArgument)
        #expect(code(ComparisonGate(rules: [.init(measure: "ndcg_cut_10")])) == .invalidArgument)
        #expect(code(ComparisonGate(rules: [.init(measure: "ndcg_cut_10", maxDrop: 0.01, latency: "p99")])) == .invalidArgument)
        #expect(code(ComparisonGate(rules: [.init(measure: "recall_10", maxDrop: 0.01)])) == .invalidArgument)
        #expect(code(ComparisonGate(rules: [.init(latency: "p99", maxMilliseconds: 5)])) == .invalidArgument)  // no costs
        #expect(code(ComparisonGate(rules: [.init(latency: "p90", maxMilliseconds: 5)])) == .invalidArgument)
        #expect(code(ComparisonGate(rules: [.init(measure: "ndcg_cut_10", maxDrop: 0.01, candidates: ["other"])])) == .invalidArgument)
    }

    @Test func readsAGateFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = directory.appendingPathComponent("gate.json")
        try Data(#"{"rules": [{"measure": "ndcg_cut_10", "maxDrop": 0.01}, {"latency": "p99", "maxMilliseconds": 20}]}"#.utf8)
            .write(to: good)
        let gate = try ComparisonGate(contentsOf: good)
        #expect(gate.rules.count == 2 && gate.rules[0].maxDrop == 0.01 && gate.rules[1].latency == "p99")
        let bad = directory.appendingPathComponent("bad.json")
        try Data(#"{"rules": [{"maxDrop": 0.01}]}"#.utf8).write(to: bad)
        #expect(throws: SearchError.self) { _ = try ComparisonGate(contentsOf: bad) }
        let notJSON = directory.appendingPathComponent("not.json")
        try Data("rules: none".utf8).write(to: notJSON)
        #expect(throws: SearchError.self) { _ = try ComparisonGate(contentsOf: notJSON) }
        #expect(throws: SearchError.self) { _ = try ComparisonGate(contentsOf: directory.appendingPathComponent("missing.json")) }
    }

    @Test func reportRendersTablesAndCharts() throws {
        let report = try report()
        let costs = try ["base": cost(p99: 8), "same": cost(p99: 10), "slightly": cost(p99: 30), "worse": cost(p99: 5)]
        let verdict = try ComparisonGate(rules: [.init(measure: "ndcg_cut_10", maxDrop: 0.01)]).check(report)
        let table = report.table(costs: costs)
        #expect(table.contains("ndcg_cut_10") && table.contains("slightly") && table.contains("p99 ms"))
        let html = report.html(title: "A <test>", costs: costs, verdict: verdict)
        // One difference chart per candidate and measure, plus the quality/latency chart.
        #expect(html.components(separatedBy: "<svg class=\"chart\"").count - 1 == 4)
        #expect(html.contains("data-charts-drawn=\"0/4\""))
        #expect(html.contains("A &lt;test&gt;") && !html.contains("A <test>"))
        #expect(html.contains("Gate: failed"))
    }
}
