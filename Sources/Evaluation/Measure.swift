/// A ranking measure a ``Run`` can be evaluated with, named as trec_eval
/// names it where trec_eval has it.
///
/// ```swift
/// let report = try run.evaluate(
///     against: qrels,
///     measures: [.ndcg(at: 10), .ndcg(at: 10, gain: .exponential), .recall(at: 100),
///                .averagePrecision, .reciprocalRank, .precision(at: 10)])
/// print(report[.ndcg(at: 10)]!.mean)
/// ```
///
/// | measure | trec_eval | per query |
/// | --- | --- | --- |
/// | ``precision(at:)`` | `P_k` | ``Precision/atK(_:judgements:k:)`` |
/// | ``recall(at:)`` | `recall_k` | ``Recall/atK(_:judgements:k:)`` |
/// | ``ndcg(at:gain:)`` | `ndcg_cut_k` (linear gain only) | ``NDCG/atK(_:judgements:k:gain:)`` |
/// | ``averagePrecision`` | `map` | ``AveragePrecision/of(_:judgements:k:)`` |
/// | ``averagePrecision(at:)`` | `map_cut_k` | ``AveragePrecision/of(_:judgements:k:)`` |
/// | ``reciprocalRank`` | `recip_rank` | ``ReciprocalRank/of(_:judgements:k:)`` |
/// | ``reciprocalRank(at:)`` | — | ``ReciprocalRank/of(_:judgements:k:)`` |
/// | ``rPrecision`` | `Rprec` | ``RPrecision/of(_:judgements:)`` |
/// | ``hitRate(at:)`` | `success_k` | ``HitRate/atK(_:judgements:k:)`` |
///
/// ## Edge cases
///
/// Every ranking measure of this module follows one policy, chosen to agree
/// with trec_eval (and so pytrec_eval) wherever trec_eval defines the case.
///
/// - **A query with no relevant item** (every grade ≤ 0): every measure is
///   0 — recall, precision, NDCG (the ideal DCG is 0), MAP, MRR,
///   R-precision, hit rate — and the query *counts* in the mean, pulling it
///   down. trec_eval does the same. To leave such queries out, remove them
///   from the ``Qrels`` first.
/// - **A query judged but absent from the run**: skipped by default, as
///   trec_eval skips it; with ``QuerySelection/allJudged`` (trec_eval `-c`)
///   it scores 0 on every measure and counts.
/// - **A query in the run but not judged**: skipped, as in trec_eval.
/// - **Fewer than k results**: the ranking is used as it is. Precision@k
///   still divides by k (trec_eval `P_k`); recall@k, NDCG@k and the others
///   simply find nothing below the last result.
/// - **Unjudged items** in a ranking are not relevant and have no gain.
///   Negative grades (TREC's −1, "in the pool but not judged") are never
///   relevant, have no gain, and do not enter the ideal ranking.
/// - **Duplicate ids in a run**: rejected. trec_eval refuses a run that
///   lists a document twice for one query, because the document would be
///   credited twice. Reading a run file throws
///   `SearchError.Code.corruptData` naming both lines; adding
///   one to a ``Run`` throws `SearchError.Code.duplicateID`;
///   passing a ranking with a repeated id to a measure throws
///   `SearchError.Code.invalidArgument` naming both ranks.
/// - **Tied scores**: a run is ordered by score, descending, then by
///   document id, descending, compared byte by byte (trec_eval's order; the
///   rank column of a run file is ignored). ``NDCG/atK(relevance:scores:k:gain:)``,
///   ``ROCAUC`` and ``PRAUC`` instead treat tied scores as one group and
///   average over it, as scikit-learn does.
/// - **NaN scores**: rejected with a typed error, never ordered. A run file
///   line with a NaN score throws `corruptData` naming the line; a NaN given
///   to ``Run/append(document:score:query:)``, ``ROCAUC``, ``PRAUC`` or
///   ``NDCG/atK(relevance:scores:k:gain:)`` throws `invalidArgument`.
///   Infinite scores are ordered like any other.
/// - **k < 1**: `invalidArgument`.
/// - **Recall against exact results with an empty exact list** (an empty
///   index, a filter that allows nothing): 0, and the query counts, as a
///   query without relevant items does.
/// - **ROC AUC with one class only**: undefined, so ``ROCAUC`` throws
///   `invalidArgument` (scikit-learn returns NaN with a warning).
///   ``PRAUC`` with no positive returns 0, as scikit-learn does.
/// - **No latencies recorded**: ``LatencySummary`` throws `invalidArgument`.
public struct Measure: Hashable, Sendable, CustomStringConvertible {
    enum Kind: Hashable, Sendable {
        case precision
        case recall
        case ndcg(NDCG.Gain)
        case averagePrecision
        case reciprocalRank
        case rPrecision
        case hitRate
    }

    let kind: Kind

    /// The cutoff k, or `nil` for a measure over the whole ranking.
    public let cutoff: Int?

    init(_ kind: Kind, cutoff: Int?) {
        self.kind = kind
        self.cutoff = cutoff
    }

    /// Precision@k (trec_eval `P_k`).
    public static func precision(at k: Int) -> Measure { Measure(.precision, cutoff: k) }

    /// Recall@k (trec_eval `recall_k`).
    public static func recall(at k: Int) -> Measure { Measure(.recall, cutoff: k) }

    /// NDCG@k with the given gain; ``NDCG/Gain/linear`` is trec_eval `ndcg_cut_k`.
    public static func ndcg(at k: Int, gain: NDCG.Gain = .linear) -> Measure { Measure(.ndcg(gain), cutoff: k) }

    /// Average precision over the whole ranking; its mean is MAP (trec_eval `map`).
    public static let averagePrecision = Measure(.averagePrecision, cutoff: nil)

    /// Average precision of the first k results (trec_eval `map_cut_k`).
    public static func averagePrecision(at k: Int) -> Measure { Measure(.averagePrecision, cutoff: k) }

    /// Reciprocal rank of the first relevant result; its mean is MRR
    /// (trec_eval `recip_rank`).
    public static let reciprocalRank = Measure(.reciprocalRank, cutoff: nil)

    /// Reciprocal rank counting only the first k results (MRR@k).
    public static func reciprocalRank(at k: Int) -> Measure { Measure(.reciprocalRank, cutoff: k) }

    /// R-precision (trec_eval `Rprec`).
    public static let rPrecision = Measure(.rPrecision, cutoff: nil)

    /// Hit rate@k (trec_eval `success_k`).
    public static func hitRate(at k: Int) -> Measure { Measure(.hitRate, cutoff: k) }

    /// The measure's trec_eval name (`P_10`, `ndcg_cut_10`, `map`, …); for
    /// the two measures trec_eval lacks, `ndcg_cut_exp_k` (exponential gain)
    /// and `recip_rank_cut_k`.
    public var description: String {
        let k = cutoff.map(String.init) ?? ""
        switch kind {
        case .precision: return "P_\(k)"
        case .recall: return "recall_\(k)"
        case .ndcg(.linear): return "ndcg_cut_\(k)"
        case .ndcg(.exponential): return "ndcg_cut_exp_\(k)"
        case .averagePrecision: return cutoff == nil ? "map" : "map_cut_\(k)"
        case .reciprocalRank: return cutoff == nil ? "recip_rank" : "recip_rank_cut_\(k)"
        case .rPrecision: return "Rprec"
        case .hitRate: return "success_\(k)"
        }
    }

    /// Parses a name ``description`` produces: `P_10`, `recall_100`,
    /// `ndcg_cut_10`, `ndcg_cut_exp_10`, `map`, `map_cut_10`, `recip_rank`,
    /// `recip_rank_cut_10`, `Rprec`, `success_1`. Returns `nil` for anything
    /// else, including a cutoff below 1.
    public init?(trecName name: String) {
        switch name {
        case "map": self = .averagePrecision; return
        case "recip_rank": self = .reciprocalRank; return
        case "Rprec": self = .rPrecision; return
        default: break
        }
        let prefixes: [(String, Kind)] = [
            ("ndcg_cut_exp_", .ndcg(.exponential)), ("ndcg_cut_", .ndcg(.linear)), ("P_", .precision),
            ("recall_", .recall), ("map_cut_", .averagePrecision), ("recip_rank_cut_", .reciprocalRank),
            ("success_", .hitRate),
        ]
        for (prefix, kind) in prefixes where name.hasPrefix(prefix) {
            guard let k = Int(name.dropFirst(prefix.count)), k >= 1 else { return nil }
            self.init(kind, cutoff: k)
            return
        }
        return nil
    }

    /// This measure's value for one ranking, which the caller has checked
    /// for duplicates.
    func unchecked<ID: Hashable>(_ ranking: [ID], judgements: Judgements<ID>) -> Double {
        let k = cutoff ?? ranking.count
        switch kind {
        case .precision: return Precision.unchecked(ranking, judgements: judgements, k: k)
        case .recall: return Recall.unchecked(ranking, judgements: judgements, k: k)
        case .ndcg(let gain): return NDCG.unchecked(ranking, judgements: judgements, k: k, gain: gain)
        case .averagePrecision: return AveragePrecision.unchecked(ranking, judgements: judgements, k: k)
        case .reciprocalRank: return ReciprocalRank.unchecked(ranking, judgements: judgements, k: k)
        case .rPrecision: return RPrecision.unchecked(ranking, judgements: judgements)
        case .hitRate: return HitRate.unchecked(ranking, judgements: judgements, k: k)
        }
    }
}
