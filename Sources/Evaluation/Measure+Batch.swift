import SearchCore

extension Measure {
    /// This measure for one ranking against its query's judgements.
    ///
    /// ```swift
    /// let ndcg = try Measure.ndcg(at: 10).value(of: reranked, judgements: truth)
    /// ```
    ///
    /// - Throws: `SearchError.Code.invalidArgument` when the cutoff is below
    ///   1 or an item appears twice in `ranking`.
    public func value<ID: Hashable>(of ranking: [ID], judgements: Judgements<ID>) throws(SearchError) -> Double {
        if let cutoff { try RankedList.checkCutoff(cutoff) }
        try RankedList.checkUnique(ranking)
        return unchecked(ranking, judgements: judgements)
    }

    /// This measure for each ranking of a batch against the judgements of
    /// the same query, and the mean over all of them.
    ///
    /// Every query counts, including one without relevant items (it scores
    /// 0); see ``Measure`` for the edge-case policy.
    ///
    /// ```swift
    /// let mrr = try Measure.reciprocalRank.values(of: rankings, judgements: truths).mean
    /// ```
    ///
    /// - Throws: `SearchError.Code.invalidArgument` when the batches differ
    ///   in length, the cutoff is below 1, or an item appears twice in one
    ///   ranking.
    public func values<ID: Hashable>(of rankings: [[ID]], judgements: [Judgements<ID>]) throws(SearchError)
        -> MetricValues
    {
        guard rankings.count == judgements.count else {
            throw SearchError(
                .invalidArgument,
                "\(self) needs judgements for every query: \(rankings.count) rankings, \(judgements.count) judgements")
        }
        if let cutoff { try RankedList.checkCutoff(cutoff) }
        var values: [Double] = []
        values.reserveCapacity(rankings.count)
        for query in rankings.indices {
            try RankedList.checkUnique(rankings[query], "ranking of query \(query)")
            values.append(unchecked(rankings[query], judgements: judgements[query]))
        }
        return MetricValues(values)
    }
}
