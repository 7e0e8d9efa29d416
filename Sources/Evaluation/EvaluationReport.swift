/// The values of several measures for the queries of one evaluation.
///
/// ```swift
/// let report = try run.evaluate(against: qrels, measures: [.ndcg(at: 10), .averagePrecision])
/// report[.ndcg(at: 10)]?.mean                 // NDCG@10 over the queries
/// report.value(.averagePrecision, query: "q7") // one query's average precision
/// print(report)                                // trec_eval-style table of means
/// ```
public struct EvaluationReport: Sendable, CustomStringConvertible {
    /// The queries evaluated, in ``Qrels/queryIDs`` order; the order of
    /// every ``MetricValues/values`` in this report.
    public let queryIDs: [String]

    /// The measures asked for, in the order asked.
    public let measures: [Measure]

    private let table: [Measure: MetricValues]
    private let queryIndex: [String: Int]

    init(queryIDs: [String], measures: [Measure], table: [Measure: MetricValues]) {
        self.queryIDs = queryIDs
        self.measures = measures
        self.table = table
        queryIndex = Dictionary(uniqueKeysWithValues: queryIDs.enumerated().map { ($1, $0) })
    }

    /// The per-query values and mean of `measure`, or `nil` when it was not
    /// asked for.
    public subscript(measure: Measure) -> MetricValues? { table[measure] }

    /// The value of `measure` for `query`, or `nil` when either is not in
    /// the report.
    public func value(_ measure: Measure, query: String) -> Double? {
        guard let index = queryIndex[query], let values = table[measure] else { return nil }
        return values.values[index]
    }

    /// The means as trec_eval prints them: `measure<TAB>all<TAB>value`, one
    /// line per measure, after a `num_q` line.
    public var description: String {
        var text = "num_q\tall\t\(queryIDs.count)\n"
        for measure in measures {
            let mean = table[measure]?.mean ?? 0
            text += "\(measure)\tall\t\(mean)\n"
        }
        return text
    }
}
