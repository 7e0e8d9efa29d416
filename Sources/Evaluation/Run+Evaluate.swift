import SearchCore

extension Run {
    /// Evaluates the run against relevance judgements: each measure's value
    /// for each query, and their means — what trec_eval (or pytrec_eval)
    /// computes for the same files.
    ///
    /// Each query's documents are ranked by ``ranking(for:)`` (score
    /// descending, then document id descending, as trec_eval ranks them).
    /// See ``Measure`` for the edge-case policy: a judged query with no
    /// relevant document scores 0 and counts; which other queries count is
    /// `queries`.
    ///
    /// ```swift
    /// let qrels = try Qrels(contentsOf: qrelsURL)
    /// let run = try Run(contentsOf: runURL)
    /// let report = try run.evaluate(against: qrels, measures: [.ndcg(at: 10), .recall(at: 100)])
    /// ```
    ///
    /// - Parameters:
    ///   - qrels: the relevance judgements.
    ///   - measures: what to compute; each is computed and listed once even if asked for twice.
    ///   - queries: which queries count; trec_eval's default by default.
    /// - Throws: `SearchError.Code.invalidArgument` when a measure's cutoff
    ///   is below 1.
    /// - Complexity: O(q · (n log n + m · n)) for q queries of n entries and
    ///   m measures.
    public func evaluate(
        against qrels: Qrels, measures: [Measure], queries: QuerySelection = .judgedAndRetrieved
    ) throws(SearchError) -> EvaluationReport {
        for measure in measures {
            if let k = measure.cutoff { try RankedList.checkCutoff(k) }
        }
        let evaluated: [String]
        switch queries {
        case .judgedAndRetrieved: evaluated = qrels.queryIDs.filter { !entries(for: $0).isEmpty }
        case .allJudged: evaluated = qrels.queryIDs
        }
        var unique: [Measure] = []
        for measure in measures where !unique.contains(measure) { unique.append(measure) }
        var columns = [[Double]](repeating: [], count: unique.count)
        for query in evaluated {
            // A run holds no duplicate documents, so the ranking needs no check.
            let ranking = ranking(for: query)
            let judgements = qrels[query] ?? Judgements()
            for (column, measure) in unique.enumerated() {
                columns[column].append(measure.unchecked(ranking, judgements: judgements))
            }
        }
        var table: [Measure: MetricValues] = [:]
        for (column, measure) in unique.enumerated() { table[measure] = MetricValues(columns[column]) }
        return EvaluationReport(queryIDs: evaluated, measures: unique, table: table)
    }
}
