import Foundation
import SearchCore

/// Normalised discounted cumulative gain at k, for graded relevance.
///
/// DCG@k = Σ_{r=1}^{k} gain(grade of the item at rank r) / log₂(r + 1), and
/// NDCG@k = DCG@k / IDCG@k, where IDCG@k is the DCG@k of the best possible
/// ranking of the query's judged items (Järvelin & Kekäläinen, "Cumulated
/// gain-based evaluation of IR techniques", TOIS 2002).
///
/// Two gain conventions are in use and give different numbers; pick one and
/// say which (see ``Gain``):
///
/// | ``Gain`` | gain(g) | used by |
/// | --- | --- | --- |
/// | ``Gain/linear`` | g | trec_eval `ndcg_cut_k`, pytrec_eval, scikit-learn `ndcg_score` |
/// | ``Gain/exponential`` | 2^g − 1 | Burges et al. (RankNet, ICML 2005), LightGBM and XGBoost `ndcg`, ranx `ndcg_burges` |
///
/// For a ranking against judgements (``atK(_:judgements:k:gain:)``), the ideal
/// ranking is built from *every* judged item of the query, retrieved or not,
/// as trec_eval does; negative grades have no gain. A query with no relevant
/// item (IDCG = 0) scores 0 and counts in a mean. For scores over a fixed set
/// of candidates, with tied scores averaged as scikit-learn does, see
/// ``atK(relevance:scores:k:gain:)``. ``Measure`` lists the whole edge-case
/// policy.
public enum NDCG {
    /// How a relevance grade becomes a gain.
    public enum Gain: Hashable, Sendable, CustomStringConvertible {
        /// gain(g) = g: trec_eval's and scikit-learn's convention.
        case linear
        /// gain(g) = 2^g − 1: the convention of Burges et al. (2005) and of
        /// learning-to-rank libraries (LightGBM, XGBoost). It weighs the top
        /// grades much more: grade 3 is worth 7 times grade 1, not 3 times.
        case exponential

        /// The gain of `grade`; 0 for grades at or below 0.
        @inlinable
        public func value(ofGrade grade: Double) -> Double {
            guard grade > 0 else { return 0 }
            switch self {
            case .linear: return grade
            case .exponential: return pow(2, grade) - 1
            }
        }

        /// `linear` or `exponential`.
        public var description: String {
            switch self {
            case .linear: "linear"
            case .exponential: "exponential"
            }
        }
    }

    /// NDCG@k of one ranking against graded judgements (trec_eval
    /// `ndcg_cut_k` with ``Gain/linear``).
    ///
    /// ```swift
    /// let judgements = Judgements(grades: ["a": 3, "b": 0, "c": 1])
    /// try NDCG.atK(["b", "a", "c"], judgements: judgements, k: 3)                     // linear
    /// try NDCG.atK(["b", "a", "c"], judgements: judgements, k: 3, gain: .exponential)
    /// ```
    ///
    /// - Parameters:
    ///   - ranking: the retrieved items, best first.
    ///   - judgements: the query's graded judgements.
    ///   - k: the cutoff, at least 1; it applies to the ideal ranking too.
    ///   - gain: how a grade becomes a gain.
    /// - Returns: a value in [0, 1]; 0 when no judged item has a positive grade.
    /// - Throws: `SearchError.Code.invalidArgument` when `k < 1` or an item
    ///   appears twice in `ranking`.
    public static func atK<ID: Hashable>(
        _ ranking: [ID], judgements: Judgements<ID>, k: Int, gain: Gain = .linear
    ) throws(SearchError) -> Double {
        try RankedList.checkCutoff(k)
        try RankedList.checkUnique(ranking)
        return unchecked(ranking, judgements: judgements, k: k, gain: gain)
    }

    static func unchecked<ID: Hashable>(_ ranking: [ID], judgements: Judgements<ID>, k: Int, gain: Gain) -> Double {
        var ideal = 0.0
        for (index, g) in judgements.idealGains(gain, limit: k).enumerated() {
            ideal += g / discountDenominator(index)
        }
        guard ideal > 0 else { return 0 }
        var actual = 0.0
        for (index, id) in ranking.prefix(k).enumerated() {
            let g = gain.value(ofGrade: Double(judgements[id] ?? 0))
            if g != 0 { actual += g / discountDenominator(index) }
        }
        return actual / ideal
    }

    /// log₂(r + 1) for the item at 0-based `index` (rank r = index + 1).
    @inlinable
    static func discountDenominator(_ index: Int) -> Double { log2(Double(index + 2)) }
}
