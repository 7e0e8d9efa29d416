import SearchCore

/// Reciprocal rank: 1 / the rank of the first relevant result. Its mean over
/// queries is the mean reciprocal rank (MRR).
///
/// Without a cutoff this is trec_eval's `recip_rank`; with one (`MRR@10`, as
/// MS MARCO reports), a first relevant item below rank `k` scores 0. A query
/// with no relevant item retrieved scores 0 and counts in a mean. See
/// ``Measure`` for the whole edge-case policy.
public enum ReciprocalRank {
    /// 1 / the 1-based rank of the first relevant item of `ranking`, looking
    /// at the first `k` items only when `k` is given; 0 when there is none.
    ///
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
        guard let index = ranking.prefix(k).firstIndex(where: judgements.isRelevant) else { return 0 }
        return 1 / Double(index + 1)
    }
}
