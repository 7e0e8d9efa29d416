import Foundation
import SearchCore

/// Thresholds that turn a comparison into pass or fail, for a team's CI:
/// "NDCG@10 may not drop by more than 0.01 at 95% confidence", "p99 ≤ 20 ms".
///
/// A gate is usually a small JSON file beside the bake-off description:
///
/// ```json
/// {"rules": [
///   {"measure": "ndcg_cut_10", "maxDrop": 0.01, "confidence": 0.95},
///   {"latency": "p99", "maxMilliseconds": 20},
///   {"maxCPUSecondsPerThousandQueries": 5, "candidates": ["int8"]}
/// ]}
/// ```
///
/// ```swift
/// let gate = try ComparisonGate(contentsOf: URL(fileURLWithPath: "gate.json"))
/// let verdict = try gate.check(report, costs: costs)
/// print(verdict)
/// exit(verdict.passed ? 0 : 1)
/// ```
///
/// Every rule applies to every candidate unless it names some in
/// `candidates`; the baseline itself is held to the cost rules too when
/// named there.
///
/// **Quality rules are non-inferiority tests.** A candidate passes
/// `{"measure": M, "maxDrop": δ, "confidence": c}` only when the data show,
/// at confidence c, that it is no worse than the baseline by more than δ:
/// the one-sided lower bound of the mean difference (candidate − baseline;
/// the bootstrap's (1 − c) percentile, with the comparison's resamples and
/// seed) must be ≥ −δ. A candidate that is probably fine but measured on too
/// few queries to show it fails, and the message says how far the bound is
/// from the limit — add queries or relax the rule. `maxDrop: 0` asks for
/// "not worse at all".
public struct ComparisonGate: Sendable, Hashable, Codable {
    /// One threshold. Exactly one kind of limit per rule: a quality
    /// measure with `maxDrop`, a `latency` percentile with
    /// `maxMilliseconds`, `maxCPUSecondsPerThousandQueries`, or
    /// `maxPeakMemoryMB`.
    public struct Rule: Sendable, Hashable, Codable {
        /// A measure in trec_eval naming (`ndcg_cut_10`, `recall_10`, `map`, …).
        public var measure: String?
        /// The largest drop of the measure's mean allowed.
        public var maxDrop: Double?
        /// The confidence of a quality rule; 0.95 when absent.
        public var confidence: Double?
        /// `p50`, `p95` or `p99`.
        public var latency: String?
        /// The latency limit.
        public var maxMilliseconds: Double?
        /// The CPU-time limit.
        public var maxCPUSecondsPerThousandQueries: Double?
        /// The memory limit, in mebibytes.
        public var maxPeakMemoryMB: Double?
        /// The candidates held to the rule; every candidate when absent.
        public var candidates: [String]?

        /// A rule from its fields; see the type's documentation for which combine.
        public init(
            measure: String? = nil, maxDrop: Double? = nil, confidence: Double? = nil, latency: String? = nil,
            maxMilliseconds: Double? = nil, maxCPUSecondsPerThousandQueries: Double? = nil,
            maxPeakMemoryMB: Double? = nil, candidates: [String]? = nil
        ) {
            self.measure = measure
            self.maxDrop = maxDrop
            self.confidence = confidence
            self.latency = latency
            self.maxMilliseconds = maxMilliseconds
            self.maxCPUSecondsPerThousandQueries = maxCPUSecondsPerThousandQueries
            self.maxPeakMemoryMB = maxPeakMemoryMB
            self.candidates = candidates
        }
    }

    /// The rules, checked in order.
    public var rules: [Rule]

    /// A gate of `rules`.
    public init(rules: [Rule]) { self.rules = rules }

    /// Reads a gate from a JSON file.
    ///
    /// - Throws: `SearchError.Code.io` when the file cannot be read,
    ///   `.corruptData` when it is not a gate, `.invalidArgument` when a rule
    ///   is malformed (the message names the rule).
    public init(contentsOf url: URL) throws(SearchError) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw SearchError(.io, "cannot read the gate \(url.path): \(error.localizedDescription)")
        }
        do {
            self = try JSONDecoder().decode(ComparisonGate.self, from: data)
        } catch {
            throw SearchError(.corruptData, "\(url.path) is not a gate ({\"rules\": [...]}): \(error)")
        }
        for index in rules.indices { _ = try kind(of: index) }
    }

    enum Kind {
        case quality(Measure, maxDrop: Double, confidence: Double)
        case latency(String, maxSeconds: Double)
        case cpu(Double)
        case memory(Double)
    }

    func kind(of index: Int) throws(SearchError) -> Kind {
        let rule = rules[index]
        let name = "gate rule \(index + 1)"
        var kinds = 0
        if rule.measure != nil || rule.maxDrop != nil { kinds += 1 }
        if rule.latency != nil || rule.maxMilliseconds != nil { kinds += 1 }
        if rule.maxCPUSecondsPerThousandQueries != nil { kinds += 1 }
        if rule.maxPeakMemoryMB != nil { kinds += 1 }
        guard kinds == 1 else {
            throw SearchError(
                .invalidArgument,
                "\(name) must set exactly one limit: measure + maxDrop, latency + maxMilliseconds, maxCPUSecondsPerThousandQueries or maxPeakMemoryMB")
        }
        if rule.measure != nil || rule.maxDrop != nil {
            guard let measureName = rule.measure, let measure = Measure(trecName: measureName) else {
                throw SearchError(.invalidArgument, "\(name): \"\(rule.measure ?? "")\" is not a measure (e.g. ndcg_cut_10, recall_10, map)")
            }
            guard let maxDrop = rule.maxDrop, maxDrop >= 0, maxDrop.isFinite else {
                throw SearchError(.invalidArgument, "\(name): maxDrop must be a number ≥ 0 (e.g. 0.01)")
            }
            let confidence = rule.confidence ?? 0.95
            guard confidence > 0.5 && confidence < 1 else {
                throw SearchError(.invalidArgument, "\(name): confidence \(confidence) must lie between 0.5 and 1 (e.g. 0.95)")
            }
            return .quality(measure, maxDrop: maxDrop, confidence: confidence)
        }
        if rule.latency != nil || rule.maxMilliseconds != nil {
            guard let percentile = rule.latency, ["p50", "p95", "p99"].contains(percentile) else {
                throw SearchError(.invalidArgument, "\(name): latency must be p50, p95 or p99")
            }
            guard let limit = rule.maxMilliseconds, limit > 0 else {
                throw SearchError(.invalidArgument, "\(name): maxMilliseconds must be a positive number")
            }
            return .latency(percentile, maxSeconds: limit / 1000)
        }
        if let limit = rule.maxCPUSecondsPerThousandQueries {
            guard limit > 0 else { throw SearchError(.invalidArgument, "\(name): maxCPUSecondsPerThousandQueries must be positive") }
            return .cpu(limit)
        }
        let limit = rule.maxPeakMemoryMB ?? 0
        guard limit > 0 else { throw SearchError(.invalidArgument, "\(name): maxPeakMemoryMB must be positive") }
        return .memory(limit)
    }

    /// Checks every rule against a comparison and the candidates' costs.
    ///
    /// - Parameters:
    ///   - report: the baseline against the candidates.
    ///   - costs: each system's cost by name (needed only by latency, CPU and
    ///     memory rules).
    /// - Throws: `SearchError.Code.invalidArgument` when a rule is malformed,
    ///   names an unknown candidate, asks for a measure the report lacks, or
    ///   needs a cost that is missing.
    public func check(_ report: ComparisonReport, costs: [String: RunCost] = [:]) throws(SearchError) -> GateVerdict {
        var checks: [GateVerdict.Check] = []
        let known = Set(report.candidates + [report.baseline])
        for index in rules.indices {
            let rule = rules[index]
            let kind = try kind(of: index)
            let targets = rule.candidates ?? report.candidates
            for candidate in targets {
                guard known.contains(candidate) else {
                    throw SearchError(.invalidArgument, "gate rule \(index + 1) names \"\(candidate)\", which is not in the comparison")
                }
                switch kind {
                case .quality(let measure, let maxDrop, let confidence):
                    guard let row = report.row(measure, candidate: candidate) else {
                        throw SearchError(
                            .invalidArgument, "gate rule \(index + 1): \(candidate) was not compared on \(measure)")
                    }
                    let bound = row.comparison.lowerBound(confidence: confidence, options: report.options)
                    let passed = bound >= -maxDrop
                    let percent = Int((confidence * 100).rounded())
                    let text =
                        "\(candidate) \(measure): mean difference \(format(row.comparison.meanDifference)), at \(percent)% confidence ≥ \(format(bound)); may drop at most \(format(maxDrop))"
                    checks.append(GateVerdict.Check(rule: index, candidate: candidate, passed: passed, message: text))
                case .latency(let percentile, let maxSeconds):
                    let cost = try cost(of: candidate, in: costs, rule: index)
                    let value = percentile == "p50" ? cost.p50 : percentile == "p95" ? cost.p95 : cost.p99
                    let text = "\(candidate) \(percentile) latency \(format(value * 1000)) ms at concurrency \(cost.concurrency); limit \(format(maxSeconds * 1000)) ms"
                    checks.append(GateVerdict.Check(rule: index, candidate: candidate, passed: value <= maxSeconds, message: text))
                case .cpu(let limit):
                    let cost = try cost(of: candidate, in: costs, rule: index)
                    let value = cost.cpuSecondsPerThousandQueries
                    let text = "\(candidate) CPU \(format(value)) s per 1000 queries; limit \(format(limit)) s"
                    checks.append(GateVerdict.Check(rule: index, candidate: candidate, passed: value <= limit, message: text))
                case .memory(let limit):
                    let cost = try cost(of: candidate, in: costs, rule: index)
                    guard let bytes = cost.peakMemoryBytes else {
                        throw SearchError(
                            .invalidArgument, "gate rule \(index + 1): \(candidate)'s peak memory was not measured on this platform")
                    }
                    let value = Double(bytes) / 1_048_576
                    let text = "\(candidate) peak memory \(format(value)) MiB; limit \(format(limit)) MiB"
                    checks.append(GateVerdict.Check(rule: index, candidate: candidate, passed: value <= limit, message: text))
                }
            }
        }
        return GateVerdict(checks: checks)
    }

    private func cost(of candidate: String, in costs: [String: RunCost], rule: Int) throws(SearchError) -> RunCost {
        guard let cost = costs[candidate] else {
            throw SearchError(.invalidArgument, "gate rule \(rule + 1) needs \(candidate)'s latency and cost, which were not measured")
        }
        return cost
    }

    private func format(_ value: Double) -> String { String(format: "%.4g", value) }
}

/// The outcome of a ``ComparisonGate``: every check, and whether all passed.
public struct GateVerdict: Sendable, Hashable, CustomStringConvertible {
    /// One rule applied to one candidate.
    public struct Check: Sendable, Hashable {
        /// The rule's position in the gate (0-based).
        public let rule: Int
        /// The candidate checked.
        public let candidate: String
        /// Whether it met the rule.
        public let passed: Bool
        /// What was measured against what limit.
        public let message: String
    }

    /// Every check, rule by rule.
    public let checks: [Check]

    /// True when every check passed (and vacuously for a gate without rules).
    public var passed: Bool { checks.allSatisfy(\.passed) }

    /// One line per check, `PASS` or `FAIL` first, then the verdict.
    public var description: String {
        var lines = checks.map { "\($0.passed ? "PASS" : "FAIL")  \($0.message)" }
        let failed = checks.filter { !$0.passed }.count
        lines.append(passed ? "gate: passed (\(checks.count) checks)" : "gate: FAILED (\(failed) of \(checks.count) checks)")
        return lines.joined(separator: "\n")
    }
}

extension PairedComparison {
    /// The one-sided lower confidence bound of ``meanDifference``: the
    /// bootstrap's (1 − confidence) percentile, from the resamples and seed
    /// of `options` (so the same as the lower end of a two-sided interval at
    /// 2·confidence − 1).
    public func lowerBound(confidence: Double, options: ComparisonOptions) -> Double {
        Self.bootstrapInterval(
            differences, samples: options.bootstrapSamples, confidence: 2 * confidence - 1, seed: options.seed
        ).lowerBound
    }
}
