import SearchCore

/// Average precision of a ranking (trec_eval's `map` per query, `map_cut_k`
/// with a cutoff). Its mean over queries is the mean average precision (MAP).
///
/// The precision at the rank of each relevant item retrieved, summed and
/// divided by the number of relevant items of the query, *including those
/// never retrieved*: a relevant item the ranking misses contributes 0. This
/// is the information-retrieval definition; for the classifier form over
/// scores and labels, as scikit-learn's `average_precision_score` computes
/// it, see ``PRAUC``.
///
/// A query with no relevant items scores 0 and counts in a mean. See
/// ``Measure`` for the whole edge-case policy.
public enum AveragePrecision {
    /// Average precision of `ranking`, looking at the first `k` items only
    /// when `k` is given.
    ///
    /// - Returns: Σ over relevant items at rank r ≤ k of precision@r, divided
    ///   by the query's relevant count; 0 when it has none.
    /// - Throws: `SearchError.Code.invalidArgument` when `k < 1` or an item
    ///   appears twice in `ranking`.
    public static func of<ID: Hashable>(_ ranking: [ID], judgements: Judgements<ID>, k: Int? = nil)
        throws(SearchError) -> Double
    {
        if let k { try RankedList.checkCutoff(k) }
        try RankedList.checkUnique(ranking)
        return unchecked(ranking, judgements: judgements, k: k ?? ranking.count)
    }

    static func unchecked<ID: Hashable>(_ ranking: [ID], judgements: Judgements<ID>, k: Int) -> Double {
        guard judgements.relevantCount > 0 else { return 0 }
        var found = 0
        var sum = 0.0
        for (index, id) in ranking.prefix(k).enumerated() where judgements.isRelevant(id) {
            found += 1
            sum += Double(found) / Double(index + 1)
        }
        return sum / Double(judgements.relevantCount)
    }
}
