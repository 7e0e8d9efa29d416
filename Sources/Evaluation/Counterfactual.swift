import Foundation
import SearchCore

/// One logged result list: what was shown, in order, and what was clicked.
public struct LoggedList<ID: Hashable & Sendable>: Sendable {
    /// The items shown, best first (rank 1 first).
    public var shown: [ID]
    /// The items clicked (each shown).
    public var clicked: Set<ID>

    /// A logged list.
    public init(shown: [ID], clicked: Set<ID>) {
        self.shown = shown
        self.clicked = clicked
    }
}

/// Offline estimates of how a new ranker would do with real users, from
/// clicks logged while another ranker was serving — counterfactual
/// evaluation under the position-based click model.
///
/// The model: a user examines rank r with a known probability e(r) (position
/// bias, e.g. r^−0.9) and clicks an examined item with a probability that
/// depends on the item alone. Under it, a click logged at rank r stands for
/// 1 / e(r) clicks had every rank been examined, which makes re-ordering the
/// logged list measurable:
///
/// - **IPS** (inverse propensity scoring): the mean over logged lists of
///   Σ over clicked items d of λ(new rank of d) / e(logged rank of d), where
///   λ(r) = 1 / log₂(r + 1) for r ≤ k and 0 below (DCG@k's discount). It is
///   unbiased for the expected DCG@k of the new order with every item's
///   click probability as its gain, Σ_d P(click | examined, d) · λ(rank d),
///   averaged over lists. ``CounterfactualEstimate/ipsStandardError`` is the
///   standard error of that mean.
/// - **SNIPS** (self-normalised IPS): the same weighted sum divided by
///   Σ 1 / e(logged rank) over the same clicks — the average discount of a
///   propensity-weighted click, in [0, 1]: lower variance, slightly biased,
///   on the scale of a per-click rank quality rather than a sum.
///   ``CounterfactualEstimate/snipsStandardError`` is its delta-method
///   standard error (a ratio of two means over lists).
/// - **Naive**: the mean of Σ λ(new rank of d) over clicked d with no
///   weighting — what ignoring position bias gives; it favours the ranker
///   that produced the log.
///
/// Only re-orderings of the logged list can be judged: an item the new ranker
/// puts first but the log never showed has no clicks to count. Propensities
/// must be known or estimated (e.g. by randomised swaps); the estimate is as
/// good as they are.
///
/// ```swift
/// let logs = [LoggedList(shown: ["a", "b", "c"], clicked: ["b"])]
/// let examination = (1...3).map { pow(Double($0), -0.9) }
/// let estimate = try CounterfactualEvaluation.estimate(logs, examination: examination, k: 3) { list in
///     Array(list.shown.reversed())
/// }
/// estimate.ips     // b, logged at rank 2, stays at rank 2: 1/log₂(3) ÷ 2^−0.9
/// ```
public enum CounterfactualEvaluation {
    /// Estimates a new ranking's DCG@k from logged clicks.
    ///
    /// - Parameters:
    ///   - logs: the logged lists.
    ///   - examination: e(r) for ranks 1, 2, … (index 0 is rank 1): as long
    ///     as the longest logged list, each in (0, 1].
    ///   - k: the cut-off of the estimated DCG.
    ///   - ranking: the new ranker's order of a logged list's items (a
    ///     permutation of `shown`, or a subset: missing items count as below k).
    /// - Throws: `SearchError.Code.invalidArgument` for no logs, k below 1,
    ///   a propensity outside (0, 1] or too few of them, a clicked item that
    ///   was not shown, or a new ranking that holds an item the log did not
    ///   show or holds one twice.
    public static func estimate<ID: Hashable & Sendable>(
        _ logs: [LoggedList<ID>], examination: [Double], k: Int, ranking: (LoggedList<ID>) throws -> [ID]
    ) throws -> CounterfactualEstimate {
        guard !logs.isEmpty else { throw SearchError(.invalidArgument, "counterfactual estimates need at least one logged list") }
        guard k >= 1 else { throw SearchError(.invalidArgument, "the cut-off k must be at least 1, got \(k)") }
        if let bad = examination.firstIndex(where: { !($0 > 0 && $0 <= 1) }) {
            throw SearchError(.invalidArgument, "the examination propensity of rank \(bad + 1) is \(examination[bad]); each must lie in (0, 1]")
        }
        var contributions: [Double] = []
        var listWeights: [Double] = []
        contributions.reserveCapacity(logs.count)
        listWeights.reserveCapacity(logs.count)
        var weighted = 0.0
        var weights = 0.0
        var naive = 0.0
        var clicks = 0
        for (index, log) in logs.enumerated() {
            guard log.shown.count <= examination.count else {
                throw SearchError(
                    .invalidArgument,
                    "list \(index) shows \(log.shown.count) items but propensities are given for \(examination.count) ranks")
            }
            var loggedRank: [ID: Int] = [:]
            for (position, id) in log.shown.enumerated() { loggedRank[id] = position + 1 }
            var newRank: [ID: Int] = [:]
            for (position, id) in try ranking(log).enumerated() {
                guard loggedRank[id] != nil else {
                    throw SearchError(.invalidArgument, "list \(index): the new ranking holds \(id), which the log never showed")
                }
                guard newRank.updateValue(position + 1, forKey: id) == nil else {
                    throw SearchError(.invalidArgument, "list \(index): the new ranking holds \(id) twice")
                }
            }
            var contribution = 0.0
            var listWeight = 0.0
            for id in log.clicked {
                guard let logged = loggedRank[id] else {
                    throw SearchError(.invalidArgument, "list \(index): \(id) was clicked but not shown")
                }
                let weight = 1 / examination[logged - 1]
                let gain = newRank[id].map { $0 <= k ? 1 / log2(Double($0) + 1) : 0 } ?? 0
                contribution += gain * weight
                listWeight += weight
                weighted += gain * weight
                weights += weight
                naive += gain
                clicks += 1
            }
            contributions.append(contribution)
            listWeights.append(listWeight)
        }
        let n = Double(logs.count)
        let mean = contributions.reduce(0, +) / n
        var squares = 0.0
        for value in contributions { squares += (value - mean) * (value - mean) }
        let standardError = logs.count > 1 ? (squares / (n - 1) / n).squareRoot() : .nan
        // SNIPS is a ratio of two means over lists; its standard error by the delta method.
        let snips = weights > 0 ? weighted / weights : 0
        var residuals = 0.0
        for (a, b) in zip(contributions, listWeights) { residuals += (a - snips * b) * (a - snips * b) }
        let snipsError = logs.count > 1 && weights > 0 ? (residuals * n / (n - 1)).squareRoot() / weights : .nan
        return CounterfactualEstimate(
            ips: mean, ipsStandardError: standardError, snips: snips, snipsStandardError: snipsError, naive: naive / n,
            lists: logs.count, clicks: clicks)
    }
}

/// Counterfactual estimates of one ranker; see ``CounterfactualEvaluation``.
public struct CounterfactualEstimate: Sendable, Hashable, CustomStringConvertible {
    /// Inverse propensity scoring: the estimated expected DCG@k per list.
    public let ips: Double
    /// The standard error of ``ips`` over lists (NaN for one list).
    public let ipsStandardError: Double
    /// Self-normalised IPS: the average rank discount of a weighted click.
    public let snips: Double
    /// The standard error of ``snips`` over lists (delta method; NaN for one list).
    public let snipsStandardError: Double
    /// Unweighted clicks: biased toward the ranker that made the log.
    public let naive: Double
    /// Logged lists used.
    public let lists: Int
    /// Clicks counted.
    public let clicks: Int

    /// `IPS 0.8123 ± 0.0102, SNIPS 0.6011 ± 0.0090, naive 0.4410 (1000 lists, 2210 clicks)`.
    public var description: String {
        String(
            format: "IPS %.4f ± %.4f, SNIPS %.4f ± %.4f, naive %.4f (%d lists, %d clicks)", ips, ipsStandardError, snips,
            snipsStandardError, naive, lists, clicks)
    }
}
