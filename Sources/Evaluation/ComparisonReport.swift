import SearchCore

/// One baseline compared with one or more candidates, measure by measure, on
/// the same judged queries: what a bake-off reports and a gate decides on.
///
/// ```swift
/// let measures: [Measure] = [.ndcg(at: 10), .recall(at: 10)]
/// let base = try baselineRun.evaluate(against: qrels, measures: measures, queries: .allJudged)
/// let int8 = try int8Run.evaluate(against: qrels, measures: measures, queries: .allJudged)
/// let report = try ComparisonReport(baseline: ("f32", base), candidates: [("int8", int8)])
/// if let row = report.row(.ndcg(at: 10), candidate: "int8") {
///     print(row.comparison.meanDifference, row.adjustedRandomizationPValue)
/// }
/// ```
///
/// Each candidate meets the baseline in a ``PairedComparison``. With more
/// than one candidate the p-values of each measure are adjusted together by
/// ``ComparisonOptions/correction`` (the family is "every candidate against
/// the baseline on this measure"); with one candidate adjusted equals
/// unadjusted.
public struct ComparisonReport: Sendable {
    /// One candidate against the baseline on one measure.
    public struct Row: Sendable, Hashable {
        /// The measure compared.
        public let measure: Measure
        /// The candidate's name.
        public let candidate: String
        /// The statistics, candidate minus baseline.
        public let comparison: PairedComparison
        /// ``PairedComparison/randomizationPValue`` after the correction.
        public let adjustedRandomizationPValue: Double
        /// ``PairedComparison/tTestPValue`` after the correction.
        public let adjustedTTestPValue: Double
    }

    /// The baseline's name.
    public let baseline: String
    /// The candidates' names, in the order given.
    public let candidates: [String]
    /// The measures compared, in the order given.
    public let measures: [Measure]
    /// The queries compared, in the baseline report's order.
    public let queryIDs: [String]
    /// The options the figures were computed with.
    public let options: ComparisonOptions
    /// Every row, measure by measure, candidates in order within a measure.
    public let rows: [Row]

    /// Compares every candidate report with the baseline report.
    ///
    /// - Parameters:
    ///   - baseline: a name and the baseline's evaluation.
    ///   - candidates: names and evaluations over the same queries (evaluate
    ///     every run with ``QuerySelection/allJudged`` so that a query one
    ///     system retrieved nothing for still counts, as 0).
    ///   - measures: the measures to compare; by default every measure of
    ///     the baseline report.
    ///   - options: tests, interval, seed and correction.
    /// - Throws: `SearchError.Code.invalidArgument` when there is no
    ///   candidate, names repeat, a measure or a query is missing from a
    ///   report, or the options are out of range.
    public init(
        baseline: (name: String, report: EvaluationReport), candidates: [(name: String, report: EvaluationReport)],
        measures: [Measure]? = nil, options: ComparisonOptions = ComparisonOptions()
    ) throws(SearchError) {
        guard !candidates.isEmpty else {
            throw SearchError(.invalidArgument, "a comparison needs at least one candidate beside the baseline")
        }
        var names: Set<String> = [baseline.name]
        for candidate in candidates where !names.insert(candidate.name).inserted {
            throw SearchError(.invalidArgument, "the name \"\(candidate.name)\" is used twice; give every system its own")
        }
        let measures = measures ?? baseline.report.measures
        let queries = baseline.report.queryIDs
        let baselineQueries = Set(queries)
        for candidate in candidates {
            let theirs = Set(candidate.report.queryIDs)
            if let missing = queries.first(where: { !theirs.contains($0) })
                ?? candidate.report.queryIDs.first(where: { !baselineQueries.contains($0) })
            {
                throw SearchError(
                    .invalidArgument,
                    "query \"\(missing)\" is in only one of \(baseline.name) and \(candidate.name): evaluate every run with `queries: .allJudged` so both cover every judged query")
            }
        }
        self.baseline = baseline.name
        self.candidates = candidates.map(\.name)
        self.measures = measures
        queryIDs = queries
        self.options = options

        var rows: [Row] = []
        for measure in measures {
            guard let base = baseline.report[measure] else {
                throw SearchError(.invalidArgument, "\(baseline.name) was not evaluated with \(measure)")
            }
            var comparisons: [PairedComparison] = []
            for candidate in candidates {
                var values: [Double] = []
                values.reserveCapacity(queries.count)
                for query in queries {
                    guard let value = candidate.report.value(measure, query: query) else {
                        throw SearchError(.invalidArgument, "\(candidate.name) was not evaluated with \(measure)")
                    }
                    values.append(value)
                }
                comparisons.append(try PairedComparison(baseline: base.values, candidate: values, options: options))
            }
            let randomization = options.correction.adjust(comparisons.map(\.randomizationPValue))
            let t = options.correction.adjust(comparisons.map(\.tTestPValue))
            for (index, comparison) in comparisons.enumerated() {
                rows.append(
                    Row(measure: measure, candidate: candidates[index].name, comparison: comparison,
                        adjustedRandomizationPValue: randomization[index], adjustedTTestPValue: t[index]))
            }
        }
        self.rows = rows
    }

    /// The row of `measure` and `candidate`, or `nil` when either was not compared.
    public func row(_ measure: Measure, candidate: String) -> Row? {
        rows.first { $0.measure == measure && $0.candidate == candidate }
    }
}
