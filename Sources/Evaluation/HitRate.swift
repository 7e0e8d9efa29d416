import SearchCore

/// Hit rate@k (trec_eval's `success_k`): 1 when at least one relevant item is
/// among the first k results, else 0.
///
/// Its mean over queries is the share of queries with a hit in the top k. A
/// query with no relevant items scores 0 and counts in a mean. See
/// ``Measure`` for the whole edge-case policy.
public enum HitRate {
    /// 1 when a relevant item is among the first `k` of `ranking`, else 0.
    ///
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
        ranking.prefix(k).contains(where: judgements.isRelevant) ? 1 : 0
    }
}
