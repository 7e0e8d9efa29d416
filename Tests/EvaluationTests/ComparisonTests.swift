import Evaluation
import Foundation
import SearchCore
import Testing

/// `PairedComparison` and `ComparisonReport` against SciPy, ranx and
/// statsmodels (`scripts/fixtures/make_comparison_fixtures.py`).
@Suite struct ComparisonTests {
    struct Fixture: Decodable {
        struct Candidate: Decodable {
            var name: String
            var values: [Double]
            var mean_difference: Double
            var t_statistic: Double?
            var t_pvalue: Double?
            var effect_size: Double?
            var exact_randomization_pvalue: Double?
            var ranx_randomization_pvalue: Double?
            var ranx_permutations: Int?
            var bootstrap_low: Double
            var bootstrap_high: Double
            var bootstrap_resamples: Int
            var bootstrap_standard_error: Double
            var wins: Int?
            var ties: Int?
            var losses: Int?
        }
        struct Case: Decodable {
            var name: String
            var baseline: [Double]
            var candidates: [Candidate]
            var holm_t_pvalues: [Double]?
            var bonferroni_t_pvalues: [Double]?
            var query_ids: [String]?
        }
        var cases: [Case]
    }

    static let permutations = 50_000
    static let bootstrapSamples = 20_000

    @Test func matchesSciPyRanxAndStatsmodels() throws {
        let fixture = try Fixtures.json(Fixture.self, "comparison.json")
        #expect(fixture.cases.count == 5)
        var checked = (exact: 0, monteCarlo: 0, t: 0, holm: 0, wtl: 0)
        for item in fixture.cases {
            for candidate in item.candidates {
                let label = "\(item.name) / \(candidate.name)"
                let options = ComparisonOptions(bootstrapSamples: Self.bootstrapSamples, permutations: Self.permutations)
                let c = try PairedComparison(baseline: item.baseline, candidate: candidate.values, options: options)
                #expect(abs(c.meanDifference - candidate.mean_difference) <= 1e-12, "\(label)")

                // The t test is exact arithmetic: SciPy's figures to ~1e-12 relative.
                if let t = candidate.t_statistic, let p = candidate.t_pvalue {
                    #expect(abs(c.tStatistic - t) <= 1e-10 * max(1, abs(t)), "\(label): t \(c.tStatistic) vs \(t)")
                    #expect(abs(c.tTestPValue - p) <= 1e-12 + 1e-9 * p, "\(label): p \(c.tTestPValue) vs \(p)")
                    checked.t += 1
                } else {
                    // SciPy's NaN for all-zero differences; ours is t 0, p 1.
                    #expect(c.tStatistic == 0 && c.tTestPValue == 1, "\(label)")
                }
                if let d = candidate.effect_size {
                    #expect(abs(c.effectSize - d) <= 1e-12 * max(1, abs(d)), "\(label)")
                }

                if let exact = candidate.exact_randomization_pvalue {
                    #expect(c.randomizationIsExact, "\(label)")
                    #expect(abs(c.randomizationPValue - exact) <= 1e-12, "\(label): \(c.randomizationPValue) vs \(exact)")
                    checked.exact += 1
                }
                if let reference = candidate.ranx_randomization_pvalue, let theirs = candidate.ranx_permutations {
                    #expect(!c.randomizationIsExact, "\(label)")
                    // Two Monte Carlo estimates of one p: within 5 standard errors of their
                    // difference, plus our +1 / (permutations + 1) correction.
                    let p = max(c.randomizationPValue, reference)
                    let error = (p * (1 - p) * (1 / Double(theirs) + 1 / Double(Self.permutations))).squareRoot()
                    let tolerance = 5 * error + 1 / Double(Self.permutations)
                    #expect(
                        abs(c.randomizationPValue - reference) <= tolerance,
                        "\(label): \(c.randomizationPValue) vs ranx \(reference) (tolerance \(tolerance))")
                    checked.monteCarlo += 1
                }

                // A percentile interval's endpoint from B resamples has a standard error of
                // about 2.7·SE/√B (the normal quantile density at 2.5%); two independent
                // estimates agree within 5 standard errors of their difference. Ties make the
                // bootstrap distribution lumpy, so one grid step of the mean (the smallest
                // non-zero |difference| / n) is allowed too.
                let spread = (1 / Double(Self.bootstrapSamples) + 1 / Double(candidate.bootstrap_resamples)).squareRoot()
                let step = (c.differences.map(abs).filter { $0 > 0 }.min() ?? 0) / Double(c.count)
                let tolerance = 5 * 2.7 * candidate.bootstrap_standard_error * spread + step
                #expect(
                    abs(c.confidenceInterval.lowerBound - candidate.bootstrap_low) <= tolerance,
                    "\(label): low \(c.confidenceInterval.lowerBound) vs \(candidate.bootstrap_low) (± \(tolerance))")
                #expect(
                    abs(c.confidenceInterval.upperBound - candidate.bootstrap_high) <= tolerance,
                    "\(label): high \(c.confidenceInterval.upperBound) vs \(candidate.bootstrap_high) (± \(tolerance))")

                if let wins = candidate.wins, let ties = candidate.ties, let losses = candidate.losses {
                    #expect(c.wins == wins && c.ties == ties && c.losses == losses, "\(label)")
                    checked.wtl += 1
                }
            }
            if let holm = item.holm_t_pvalues, let bonferroni = item.bonferroni_t_pvalues {
                let raw = item.candidates.compactMap(\.t_pvalue)
                for (got, want) in zip(MultipleComparisonCorrection.holm.adjust(raw), holm) {
                    #expect(abs(got - want) <= 1e-15 + 1e-12 * want, "\(item.name): Holm \(got) vs \(want)")
                }
                for (got, want) in zip(MultipleComparisonCorrection.bonferroni.adjust(raw), bonferroni) {
                    #expect(abs(got - want) <= 1e-15 + 1e-12 * want, "\(item.name): Bonferroni \(got) vs \(want)")
                }
                checked.holm += 1
            }
        }
        #expect(checked.exact == 3 && checked.monteCarlo == 7 && checked.t == 9 && checked.holm == 3 && checked.wtl == 6)
    }

    /// Two runs drawn from one system: the randomization test should reject at
    /// α = 0.05 about 5% of the time. 400 seeded trials of 30 queries: the
    /// rejection rate's standard error is √(0.05·0.95/400) ≈ 0.011, so the
    /// test allows 0.05 ± 0.035 (over 3 standard errors).
    @Test func randomizationTestHoldsItsLevelOnAVersusA() throws {
        var rng = SplitMix64(seed: 7)
        let trials = 400
        var rejections = 0
        var tRejections = 0
        for trial in 0..<trials {
            // Per-query difficulty shared by both runs, plus independent noise with ties.
            var a: [Double] = []
            var b: [Double] = []
            for _ in 0..<30 {
                let difficulty = Double.random(in: 0...1, using: &rng)
                a.append(((difficulty + Double.random(in: -0.2...0.2, using: &rng)) * 10).rounded() / 10)
                b.append(((difficulty + Double.random(in: -0.2...0.2, using: &rng)) * 10).rounded() / 10)
            }
            let options = ComparisonOptions(bootstrapSamples: 100, permutations: 2_000, seed: UInt64(trial))
            let c = try PairedComparison(baseline: a, candidate: b, options: options)
            if c.isSignificant(confidence: 0.95) { rejections += 1 }
            if c.tTestPValue <= 0.05 { tRejections += 1 }
        }
        let rate = Double(rejections) / Double(trials)
        let tRate = Double(tRejections) / Double(trials)
        #expect(abs(rate - 0.05) <= 0.035, "randomization test rejected \(rate) of A-vs-A trials")
        #expect(abs(tRate - 0.05) <= 0.035, "t test rejected \(tRate) of A-vs-A trials")
    }

    /// A real difference is found: the same 30 queries, the candidate better by
    /// 0.1 on average.
    @Test func detectsARealDifference() throws {
        var rng = SplitMix64(seed: 11)
        let a = (0..<30).map { _ in Double.random(in: 0...0.8, using: &rng) }
        let b = a.map { $0 + 0.1 + Double.random(in: -0.05...0.05, using: &rng) }
        let c = try PairedComparison(baseline: a, candidate: b)
        #expect(c.randomizationPValue < 0.001 && c.tTestPValue < 0.001)
        #expect(c.confidenceInterval.lowerBound > 0.05 && c.confidenceInterval.upperBound < 0.15)
        #expect(c.wins == 30 && c.losses == 0)
    }

    @Test func isSeededAndReproducible() throws {
        var rng = SplitMix64(seed: 3)
        let a = (0..<200).map { _ in Double.random(in: 0...1, using: &rng) }
        let b = a.map { $0 + Double.random(in: -0.1...0.12, using: &rng) }
        let first = try PairedComparison(baseline: a, candidate: b, options: ComparisonOptions(seed: 5))
        let again = try PairedComparison(baseline: a, candidate: b, options: ComparisonOptions(seed: 5))
        let other = try PairedComparison(baseline: a, candidate: b, options: ComparisonOptions(seed: 6))
        #expect(first == again)
        #expect(first.randomizationPValue != other.randomizationPValue || first.confidenceInterval != other.confidenceInterval)
    }

    @Test func rejectsBadInput() throws {
        func code(_ body: () throws -> Void) -> SearchError.Code? {
            do {
                try body()
                return nil
            } catch { return (error as? SearchError)?.code }
        }
        #expect(code { _ = try PairedComparison(baseline: [1, 2], candidate: [1]) } == .invalidArgument)
        #expect(code { _ = try PairedComparison(baseline: [1], candidate: [1]) } == .invalidArgument)
        #expect(code { _ = try PairedComparison(baseline: [1, .nan], candidate: [1, 2]) } == .invalidArgument)
        #expect(
            code { _ = try PairedComparison(baseline: [1, 2], candidate: [1, 2], options: ComparisonOptions(confidence: 1)) }
                == .invalidArgument)
        #expect(
            code { _ = try PairedComparison(baseline: [1, 2], candidate: [1, 2], options: ComparisonOptions(permutations: 5)) }
                == .invalidArgument)
    }

    /// A report over two candidates from TREC files: rows in order, p-values
    /// Holm-adjusted within a measure, a query missing from one side refused.
    @Test func comparesEvaluatedRuns() throws {
        var qrels = Qrels()
        var base = try Run(name: "base")
        var good = try Run(name: "good")
        var same = try Run(name: "same")
        var rng = SplitMix64(seed: 21)
        for q in 0..<40 {
            let query = "q\(q)"
            for d in 0..<20 {
                let grade = Int.random(in: 0...3, using: &rng) == 3 ? 1 : 0
                try qrels.setGrade(grade, document: "d\(d)", query: query)
                let noise = Double.random(in: 0...1, using: &rng)
                try base.append(document: "d\(d)", score: noise + Double(grade) * 0.3, query: query)
                try good.append(document: "d\(d)", score: noise + Double(grade) * 1.5, query: query)
                try same.append(document: "d\(d)", score: noise + Double(grade) * 0.3, query: query)
            }
        }
        let measures: [Measure] = [.ndcg(at: 10), .recall(at: 10)]
        let reports = try [base, good, same].map { run throws(SearchError) in
            try run.evaluate(against: qrels, measures: measures, queries: .allJudged)
        }
        let report = try ComparisonReport(
            baseline: ("base", reports[0]), candidates: [("good", reports[1]), ("same", reports[2])])
        #expect(report.rows.map(\.candidate) == ["good", "same", "good", "same"])
        let goodNDCG = try #require(report.row(.ndcg(at: 10), candidate: "good"))
        #expect(goodNDCG.comparison.meanDifference > 0 && goodNDCG.adjustedRandomizationPValue < 0.01)
        let sameNDCG = try #require(report.row(.ndcg(at: 10), candidate: "same"))
        #expect(sameNDCG.comparison.meanDifference == 0 && sameNDCG.adjustedRandomizationPValue == 1)
        let raw = [goodNDCG.comparison.randomizationPValue, sameNDCG.comparison.randomizationPValue]
        #expect(
            [goodNDCG.adjustedRandomizationPValue, sameNDCG.adjustedRandomizationPValue]
                == MultipleComparisonCorrection.holm.adjust(raw))

        var partial = Qrels()
        for q in 0..<39 { try partial.setGrade(1, document: "d0", query: "q\(q)") }
        let fewer = try base.evaluate(against: partial, measures: measures, queries: .allJudged)
        #expect(throws: SearchError.self) {
            _ = try ComparisonReport(baseline: ("base", reports[0]), candidates: [("fewer", fewer)])
        }
        #expect(throws: SearchError.self) {
            _ = try ComparisonReport(baseline: ("base", reports[0]), candidates: [("base", reports[1])])
        }
    }
}
