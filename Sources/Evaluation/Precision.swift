import SearchCore

/// Precision@k: the share of the first k results that are relevant.
///
/// Divides by `k` even when fewer than `k` results were retrieved, as
/// trec_eval's `P_k` does: a ranking of 3 relevant items scores 0.3 at
/// k = 10, so returning less is not a way to look precise. A query with no
/// relevant items scores 0 and counts in a mean. See ``Measure`` for the
/// whole edge-case policy.
public enum Precision {
    /// Precision@k of one ranking: relevant items among the first `k`,
    /// divided by `k` (trec_eval `P_k`).
    ///
    /// - Parameters:
    ///   - ranking: the retrieved items, best first.
    ///   - judgements: the query's judgements; grade ≥ 1 is relevant.
    ///   - k: the cutoff, at least 1.
    /// - Returns: a value in [0, 1].
    /// - Throws: `SearchError.Code.invalidArgument` when `k < 1` or an item
    ///   appears twice in `ranking`.
    public static func atK<ID: Hashable>(_ ranking: [ID], judgements: Judgements<ID>, k: Int) throws(SearchError)
        -> Double
    {
        try RankedList.checkCutoff(k)
        try RankedList.checkUnique(ranking)
        return unchecked(ranking, judgements: judgements, k: k)
    }

    static func unchecked<ID: Hashable>(_ ranking: [ID], judgements: Judgements<ID>, k: Int) -> Double {
        Double(RankedList.relevantCount(in: ranking, judgements: judgements, k: k)) / Double(k)
    }
}
