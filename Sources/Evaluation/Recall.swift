import SearchCore

/// Recall@k: the share of the relevant items found in the first k results.
///
/// Two forms, one definition:
///
/// - Against **relevance judgements** (trec_eval's `recall_k`): the relevant
///   items among the first `k` of the ranking, divided by *all* relevant
///   items of the query, retrieved or not. A query with more than `k`
///   relevant items cannot reach 1.
/// - Against **exact search results**, the recall an approximate index is
///   judged by: the first `k` exact neighbours are the relevant set, so the
///   value is |retrieved top-k ∩ exact top-k| / min(k, exact count). A
///   perfect index scores 1, also when fewer than `k` items exist. See
///   `Recall.atK(_:exact:k:)`.
///
/// A query with no relevant items scores 0 and still counts in a mean, as in
/// trec_eval. See ``Measure`` for the whole edge-case policy.
public enum Recall {
    /// Recall@k of one ranking against graded judgements: relevant items in
    /// the first `k`, divided by the query's relevant count (trec_eval
    /// `recall_k`).
    ///
    /// - Parameters:
    ///   - ranking: the retrieved items, best first.
    ///   - judgements: the query's judgements; grade ≥ 1 is relevant.
    ///   - k: the cutoff, at least 1. A ranking shorter than `k` is used as is.
    /// - Returns: a value in [0, 1]; 0 when the query has no relevant item.
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
        guard judgements.relevantCount > 0 else { return 0 }
        let found = RankedList.relevantCount(in: ranking, judgements: judgements, k: k)
        return Double(found) / Double(judgements.relevantCount)
    }
}
