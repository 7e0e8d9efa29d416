/// One measure's value for each query, and their mean.
///
/// The mean is the arithmetic mean over every value held, the way trec_eval
/// averages a measure over the queries it evaluated: a query that scored 0
/// because it has no relevant item still counts. Which queries are held is
/// the caller's choice (see ``QuerySelection``).
public struct MetricValues: Hashable, Sendable, CustomStringConvertible {
    /// The per-query values, in the order the queries were given.
    public let values: [Double]

    /// The arithmetic mean of ``values``; 0 when there are none, as trec_eval
    /// reports for an empty evaluation.
    public let mean: Double

    /// Wraps per-query values and computes their mean.
    public init(_ values: [Double]) {
        self.values = values
        var sum = 0.0
        for value in values { sum += value }
        mean = values.isEmpty ? 0 : sum / Double(values.count)
    }

    /// The number of queries.
    public var count: Int { values.count }

    /// The mean and the query count, e.g. `0.4821 over 50 queries`.
    public var description: String { "\(mean) over \(values.count) queries" }
}
