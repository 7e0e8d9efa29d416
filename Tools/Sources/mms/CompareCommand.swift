import ArgumentParser
import Evaluation
import Foundation
import SearchCore

/// `mms compare --qrels FILE base.run candidate.run …`: TREC runs compared on
/// one set of judgements, optionally gated.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare TREC run files on one qrels file: differences, intervals, significance; optionally a pass/fail gate.",
        discussion: """
            The first run is the baseline; every other run is compared with it query by query (every judged
            query counts, 0 where a run retrieved nothing). Name a run with NAME=FILE, otherwise its file name
            (without extension) names it. p-values are two-sided and adjusted over the candidates (Holm by
            default). With --gate FILE the exit status is 1 when a rule fails (see `mms bakeoff --help` for the
            gate format).
            """)

    @Option(help: "A TREC qrels file.") var qrels: String
    @Argument(help: "Run files (TREC format): the baseline first, then the candidates; NAME=FILE to name one.")
    var runs: [String]
    @Option(name: .customLong("measure"), help: "A measure in trec_eval naming; repeatable. Default: ndcg_cut_10 and recall_10.")
    var measures: [String] = []
    @Option(help: "A gate file: rules that turn the comparison into pass or fail.") var gate: String?
    @Option(help: "Also write an HTML report with per-query difference charts to this file.") var html: String?
    @Option(help: "Randomization test permutations.") var permutations = 10_000
    @Option(help: "Bootstrap resamples.") var bootstrap = 10_000
    @Option(help: "The seed of every random step.") var seed: UInt64 = 42
    @Option(help: "Multiple-comparison correction: holm, bonferroni or none.") var correction = "holm"

    func validate() throws {
        if runs.count < 2 { throw ValidationError("give a baseline run and at least one candidate run") }
        if MultipleComparisonCorrection(rawValue: correction) == nil {
            throw ValidationError("--correction must be holm, bonferroni or none")
        }
    }

    func run() throws {
        let judgements = try Qrels(contentsOf: URL(fileURLWithPath: qrels))
        let chosen = try parseMeasures(measures)
        var named: [(name: String, report: EvaluationReport)] = []
        for argument in runs {
            let (name, path) = splitNamed(argument)
            let run = try Run(contentsOf: URL(fileURLWithPath: path))
            named.append((name, try run.evaluate(against: judgements, measures: chosen, queries: .allJudged)))
        }
        let options = ComparisonOptions(
            bootstrapSamples: bootstrap, permutations: permutations, seed: seed,
            correction: MultipleComparisonCorrection(rawValue: correction) ?? .holm)
        let report = try ComparisonReport(baseline: named[0], candidates: Array(named.dropFirst()), options: options)
        print(report.table(), terminator: "")
        var verdict: GateVerdict?
        if let gate {
            verdict = try ComparisonGate(contentsOf: URL(fileURLWithPath: gate)).check(report)
            print("\n\(verdict!)")
        }
        if let html {
            try Data(report.html(title: "Comparison on \(qrels)", verdict: verdict).utf8).write(to: URL(fileURLWithPath: html))
            print("wrote \(html)")
        }
        if let verdict, !verdict.passed { throw ExitCode(1) }
    }
}

/// Measures from trec_eval names; ndcg_cut_10 and recall_10 when none are given.
func parseMeasures(_ names: [String]) throws -> [Measure] {
    if names.isEmpty { return [.ndcg(at: 10), .recall(at: 10)] }
    return try names.map { name in
        guard let measure = Measure(trecName: name) else {
            throw ValidationError("\"\(name)\" is not a measure; use trec_eval names such as ndcg_cut_10, recall_10, map, P_5")
        }
        return measure
    }
}

/// `NAME=PATH` → (NAME, PATH); `PATH` → (its file name without extension, PATH).
func splitNamed(_ argument: String) -> (String, String) {
    if let equals = argument.firstIndex(of: "="), !argument[..<equals].contains("/") {
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }
    return (URL(fileURLWithPath: argument).deletingPathExtension().lastPathComponent, argument)
}
