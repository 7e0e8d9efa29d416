import SearchCore

/// How a ``PairedComparison`` tests, estimates and counts. Every random step
/// is seeded, so the same inputs and options give the same figures on every
/// machine.
public struct ComparisonOptions: Sendable, Hashable {
    /// The confidence level of the bootstrap interval and the significance
    /// level `1 − confidence` that ``PairedComparison/isSignificant`` and
    /// gates use. Default 0.95.
    public var confidence: Double
    /// Bootstrap resamples of the queries for the confidence interval.
    /// Default 10,000.
    public var bootstrapSamples: Int
    /// Random sign assignments for the randomization test. When 2ⁿ for n
    /// queries is no larger, every assignment is enumerated instead and the
    /// p-value is exact. Default 10,000.
    public var permutations: Int
    /// The seed of the bootstrap and the randomization test. Default 42.
    public var seed: UInt64
    /// How p-values are adjusted when one baseline is compared with several
    /// candidates. Default Holm.
    public var correction: MultipleComparisonCorrection
    /// A query whose two values differ by at most this much is a tie.
    /// Default 1e-12 (exact equality up to rounding).
    public var tieTolerance: Double

    /// Options with the defaults above, any of them replaced.
    public init(
        confidence: Double = 0.95, bootstrapSamples: Int = 10_000, permutations: Int = 10_000, seed: UInt64 = 42,
        correction: MultipleComparisonCorrection = .holm, tieTolerance: Double = 1e-12
    ) {
        self.confidence = confidence
        self.bootstrapSamples = bootstrapSamples
        self.permutations = permutations
        self.seed = seed
        self.correction = correction
        self.tieTolerance = tieTolerance
    }

    func validate() throws(SearchError) {
        guard confidence > 0 && confidence < 1 else {
            throw SearchError(.invalidArgument, "confidence \(confidence) must lie strictly between 0 and 1, e.g. 0.95")
        }
        guard bootstrapSamples >= 100 else {
            throw SearchError(
                .invalidArgument, "bootstrapSamples \(bootstrapSamples) is too few for an interval; use at least 100 (default 10,000)")
        }
        guard permutations >= 100 else {
            throw SearchError(
                .invalidArgument, "permutations \(permutations) is too few for a p-value; use at least 100 (default 10,000)")
        }
        guard tieTolerance >= 0 && tieTolerance.isFinite else {
            throw SearchError(.invalidArgument, "tieTolerance \(tieTolerance) must be finite and ≥ 0")
        }
    }
}

/// How p-values are adjusted when one baseline meets several candidates on
/// one measure, so that the chance of any false "significant" among them
/// stays at the significance level.
public enum MultipleComparisonCorrection: String, Sendable, Hashable, CaseIterable {
    /// Holm's step-down method: sort the m p-values ascending, multiply the
    /// i-th smallest (1-based) by m − i + 1, cap at 1, and make the sequence
    /// non-decreasing. Controls the family-wise error rate like Bonferroni and
    /// never rejects less. `statsmodels`' `multipletests(method="holm")`.
    case holm
    /// Each p-value times m, capped at 1.
    case bonferroni
    /// No adjustment (only sensible for one candidate).
    case none

    /// `pValues` adjusted, in the order given.
    public func adjust(_ pValues: [Double]) -> [Double] {
        let m = Double(pValues.count)
        switch self {
        case .none:
            return pValues
        case .bonferroni:
            return pValues.map { min(1, $0 * m) }
        case .holm:
            let order = pValues.indices.sorted { pValues[$0] < pValues[$1] }
            var adjusted = [Double](repeating: 0, count: pValues.count)
            var running = 0.0
            for (rank, index) in order.enumerated() {
                running = max(running, min(1, (m - Double(rank)) * pValues[index]))
                adjusted[index] = running
            }
            return adjusted
        }
    }
}

/// Two systems compared query by query on one measure: the candidate's
/// values against the baseline's for the same queries, in the same order.
///
/// ```swift
/// let comparison = try PairedComparison(baseline: [0.50, 0.62, 0.40], candidate: [0.55, 0.70, 0.38])
/// comparison.meanDifference        // candidate − baseline
/// comparison.confidenceInterval    // 95% bootstrap interval of that difference
/// comparison.randomizationPValue   // two-sided paired randomization test
/// ```
///
/// - **Randomization test** (Fisher's, paired, two-sided): under "no
///   difference" each query's two values are exchangeable, so every sign of
///   every per-query difference is equally likely. The p-value is the share
///   of sign assignments whose mean difference is at least as far from 0 as
///   the observed one: all 2ⁿ of them when 2ⁿ ≤ ``ComparisonOptions/permutations``
///   (exact, as `scipy.stats.permutation_test` with `permutation_type="samples"`
///   computes it), otherwise that many random ones, counted as (hits + 1) /
///   (permutations + 1) so a p-value is never 0 (ranx counts hits /
///   permutations; the two differ by less than 1 / permutations).
/// - **Paired t test**: t = mean(d) / (sd(d) / √n) with n − 1 degrees of
///   freedom, two-sided, as `scipy.stats.ttest_rel`. When every difference is
///   0, t is 0 and p is 1 (SciPy gives NaN for both).
/// - **Bootstrap interval**: the queries resampled with replacement,
///   percentile interval of the mean difference (`scipy.stats.bootstrap`
///   with `method="percentile"`, paired).
/// - **Effect size**: Cohen's d for paired samples (d_z), mean(d) / sd(d),
///   sd with n − 1; ±∞ when every difference is the same non-zero value.
public struct PairedComparison: Sendable, Hashable {
    /// Queries compared.
    public let count: Int
    /// The baseline's mean.
    public let baselineMean: Double
    /// The candidate's mean.
    public let candidateMean: Double
    /// Candidate minus baseline, per query, in the order given.
    public let differences: [Double]
    /// The mean of ``differences``: candidate mean minus baseline mean.
    public let meanDifference: Double
    /// The bootstrap percentile interval of ``meanDifference`` at
    /// ``ComparisonOptions/confidence``.
    public let confidenceInterval: ClosedRange<Double>
    /// The two-sided paired randomization test's p-value.
    public let randomizationPValue: Double
    /// Whether ``randomizationPValue`` came from every sign assignment.
    public let randomizationIsExact: Bool
    /// The paired t statistic.
    public let tStatistic: Double
    /// The two-sided paired t test's p-value.
    public let tTestPValue: Double
    /// Cohen's d_z: mean(d) / sd(d).
    public let effectSize: Double
    /// Queries where the candidate is higher, equal (within
    /// ``ComparisonOptions/tieTolerance``), lower.
    public let wins: Int
    public let ties: Int
    public let losses: Int

    /// Compares `candidate` with `baseline`, query by query.
    ///
    /// - Throws: `SearchError.Code.invalidArgument` when the two differ in
    ///   length, hold fewer than 2 queries or a non-finite value, or the
    ///   options are out of range.
    public init(baseline: [Double], candidate: [Double], options: ComparisonOptions = ComparisonOptions())
        throws(SearchError)
    {
        try options.validate()
        guard baseline.count == candidate.count else {
            throw SearchError(
                .invalidArgument,
                "the baseline has \(baseline.count) values and the candidate \(candidate.count): compare the same queries in the same order")
        }
        guard baseline.count >= 2 else {
            throw SearchError(.invalidArgument, "a comparison needs at least 2 queries; got \(baseline.count)")
        }
        if let bad = baseline.firstIndex(where: { !$0.isFinite }) ?? candidate.firstIndex(where: { !$0.isFinite }) {
            throw SearchError(
                .invalidArgument, "query \(bad) has a non-finite value (\(baseline[bad]) vs \(candidate[bad])); a metric is always finite")
        }
        let n = baseline.count
        count = n
        baselineMean = baseline.reduce(0, +) / Double(n)
        candidateMean = candidate.reduce(0, +) / Double(n)
        let d = zip(candidate, baseline).map { $0 - $1 }
        differences = d
        let sum = d.reduce(0, +)
        let mean = sum / Double(n)
        meanDifference = mean
        var squares = 0.0
        for value in d { squares += (value - mean) * (value - mean) }
        let sd = (squares / Double(n - 1)).squareRoot()

        var wins = 0
        var ties = 0
        for value in d {
            if abs(value) <= options.tieTolerance {
                ties += 1
            } else if value > 0 {
                wins += 1
            }
        }
        self.wins = wins
        self.ties = ties
        losses = n - wins - ties

        if sd == 0 {
            tStatistic = mean == 0 ? 0 : (mean > 0 ? .infinity : -.infinity)
            tTestPValue = mean == 0 ? 1 : 0
            effectSize = tStatistic
        } else {
            let t = mean / (sd / Double(n).squareRoot())
            tStatistic = t
            tTestPValue = StudentT.twoSidedTail(t, degreesOfFreedom: Double(n - 1))
            effectSize = mean / sd
        }

        (randomizationPValue, randomizationIsExact) = Self.randomizationTest(
            d, permutations: options.permutations, seed: options.seed)
        confidenceInterval = Self.bootstrapInterval(
            d, samples: options.bootstrapSamples, confidence: options.confidence, seed: options.seed)
    }

    /// Whether the randomization test rejects "no difference" at
    /// `1 − confidence` (unadjusted; see ``ComparisonReport`` for adjusted
    /// p-values).
    public func isSignificant(confidence: Double = 0.95) -> Bool { randomizationPValue <= 1 - confidence }

    /// The paired randomization test of `d`: (p, exact).
    static func randomizationTest(_ d: [Double], permutations: Int, seed: UInt64) -> (Double, Bool) {
        let n = d.count
        var observed = 0.0
        var scale = 0.0
        for value in d {
            observed += value
            scale += abs(value)
        }
        observed = abs(observed)
        // Sums equal in exact arithmetic may round apart; count them as equal.
        let threshold = observed - 1e-12 * scale
        if n < 63, (1 << n) <= permutations {
            var hits = 0
            for mask in 0..<(1 << n) {
                var sum = 0.0
                for i in 0..<n { sum += mask & (1 << i) != 0 ? -d[i] : d[i] }
                if abs(sum) >= threshold { hits += 1 }
            }
            return (Double(hits) / Double(1 << n), true)
        }
        var rng = SplitMix64(seed: seed ^ 0x5241_4E44_4F4D_4953)  // "RANDOMIS"
        var hits = 0
        var bits: UInt64 = 0
        var available = 0
        for _ in 0..<permutations {
            var sum = 0.0
            for value in d {
                if available == 0 {
                    bits = rng.next()
                    available = 64
                }
                sum += bits & 1 == 0 ? value : -value
                bits >>= 1
                available -= 1
            }
            if abs(sum) >= threshold { hits += 1 }
        }
        return (Double(hits + 1) / Double(permutations + 1), false)
    }

    /// The percentile bootstrap interval of the mean of `d`.
    static func bootstrapInterval(_ d: [Double], samples: Int, confidence: Double, seed: UInt64) -> ClosedRange<Double> {
        var rng = SplitMix64(seed: seed ^ 0x424F_4F54_5354_5250)  // "BOOTSTRP"
        let n = d.count
        var means = [Double](repeating: 0, count: samples)
        for b in 0..<samples {
            var sum = 0.0
            for _ in 0..<n { sum += d[Int.random(in: 0..<n, using: &rng)] }
            means[b] = sum / Double(n)
        }
        means.sort()
        let tail = (1 - confidence) / 2 * 100
        let lower = Percentile.linear(tail, ofSorted: means)
        let upper = Percentile.linear(100 - tail, ofSorted: means)
        return lower...upper
    }
}
