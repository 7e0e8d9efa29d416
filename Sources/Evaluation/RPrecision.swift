import SearchCore

/// R-precision (trec_eval's `Rprec`): precision at rank R, where R is the
/// number of relevant items of the query.
///
/// At that cutoff precision equals recall. When fewer than R items were
/// retrieved, the relevant ones among them are still divided by R. A query
/// with no relevant items scores 0 and counts in a mean. See ``Measure`` for
/// the whole edge-case policy.
public enum RPrecision {
    /// Relevant items among the first R of `ranking`, divided by R, the
    /// query's relevant count; 0 when R is 0.
    ///
    /// - Throws: `SearchError.Code.invalidArgument` when an item appears
    ///   twice in `ranking`.
    public static func of<ID: Hashable>(_ ranking: [ID], judgements: Judgements<ID>) throws(SearchError) -> Double {
        try RankedList.checkUnique(ranking)
        return unchecked(ranking, judgements: judgements)
    }

    static func unchecked<ID: Hashable>(_ ranking: [ID], judgements: Judgements<ID>) -> Double {
        let r = judgements.relevantCount
        guard r > 0 else { return 0 }
        return Double(RankedList.relevantCount(in: ranking, judgements: judgements, k: r)) / Double(r)
    }
}
