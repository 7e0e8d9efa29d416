import SearchCore

extension Recall {
    /// Recall@k of approximate results against exact ones, for a batch of
    /// queries: what the ANN benchmark reports.
    ///
    /// For each query, the first `k` exact results are the true neighbours;
    /// the value is how many of them appear among the first `k` retrieved
    /// results, divided by min(k, exact count). So 1 means "found every true
    /// neighbour", also on an index holding fewer than `k` vectors.
    ///
    /// ```swift
    /// let approximate = try queries.map { try hnsw.search($0, k: 10).map(\.id) }
    /// let exact = try queries.map { try flat.search($0, k: 10).map(\.id) }
    /// let recall = try Recall.atK(approximate, exact: exact, k: 10)
    /// print("recall@10 = \(recall.mean)")
    /// ```
    ///
    /// Items are matched by identity only. When several exact neighbours are
    /// equidistant at the k-th place, the exact search picked one of them and
    /// an index returning another is counted as a miss; compare distances
    /// yourself if that matters for your data.
    ///
    /// - Parameters:
    ///   - retrieved: per query, the approximate results, best first.
    ///   - exact: per query, the exact results, best first; same query order.
    ///   - k: the cutoff, at least 1.
    /// - Returns: one value per query, in input order, and their mean. A
    ///   query whose exact list is empty has no true neighbour: it scores 0
    ///   and counts in the mean (trec_eval's rule for a query with no
    ///   relevant item).
    /// - Throws: `SearchError.Code.invalidArgument` when the two batches
    ///   differ in length, `k < 1`, or an id appears twice in one query's
    ///   list (an index that returns an id twice has a bug worth seeing).
    public static func atK<ID: Hashable>(_ retrieved: [[ID]], exact: [[ID]], k: Int) throws(SearchError)
        -> MetricValues
    {
        try RankedList.checkCutoff(k)
        guard retrieved.count == exact.count else {
            throw SearchError(
                .invalidArgument,
                "recall needs one exact list per query: \(retrieved.count) retrieved, \(exact.count) exact")
        }
        var values: [Double] = []
        values.reserveCapacity(retrieved.count)
        for query in retrieved.indices {
            try RankedList.checkUnique(retrieved[query], "retrieved list of query \(query)")
            try RankedList.checkUnique(exact[query], "exact list of query \(query)")
            let truth = Judgements(relevant: exact[query].prefix(k))
            values.append(unchecked(retrieved[query], judgements: truth, k: k))
        }
        return MetricValues(values)
    }

    /// Recall@k of approximate search hits against exact ones, matched by
    /// `SearchHit.id`; distances are ignored.
    ///
    /// The same as `Recall.atK(_:exact:k:)` on the hits' identifiers.
    public static func atK(_ retrieved: [[SearchHit]], exact: [[SearchHit]], k: Int) throws(SearchError)
        -> MetricValues
    {
        try atK(retrieved.map { $0.map(\.id) }, exact: exact.map { $0.map(\.id) }, k: k)
    }
}
