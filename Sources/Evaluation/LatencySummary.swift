import SearchCore

/// The figures a benchmark reports for recorded latencies: median, tail
/// percentiles, maximum and mean.
///
/// Percentiles interpolate linearly between order statistics, as NumPy's
/// `numpy.percentile` does by default; see ``Percentile`` for the exact
/// definition. With fewer than 100 samples, p99 lies between the two
/// largest values; read it together with ``count``.
///
/// ```swift
/// var recorder = LatencyRecorder()
/// for query in queries {
///     _ = try recorder.measure { try index.search(query, k: 10) }
/// }
/// print(try recorder.summary())   // n=1000 p50=0.41ms p90=0.63ms p99=1.2ms max=3.9ms
/// ```
public struct LatencySummary: Hashable, Sendable, CustomStringConvertible {
    /// The number of durations summarised.
    public let count: Int
    /// The median (50th percentile).
    public let p50: Duration
    /// The 90th percentile.
    public let p90: Duration
    /// The 99th percentile.
    public let p99: Duration
    /// The slowest duration.
    public let max: Duration
    /// The arithmetic mean.
    public let mean: Duration

    /// Summarises `durations`, in any order.
    ///
    /// - Throws: `SearchError.Code.invalidArgument` when `durations` is
    ///   empty.
    public init<C: Collection>(_ durations: C) throws(SearchError) where C.Element == Duration {
        try self.init(seconds: durations.map(LatencySummary.seconds))
    }

    /// Summarises durations given in seconds, in any order.
    ///
    /// - Throws: `SearchError.Code.invalidArgument` when `seconds` is empty
    ///   or holds a value that is not finite.
    public init(seconds: [Double]) throws(SearchError) {
        guard !seconds.isEmpty else {
            throw SearchError(.invalidArgument, "a latency summary needs at least one recorded duration")
        }
        if let bad = seconds.first(where: { !$0.isFinite }) {
            throw SearchError(.invalidArgument, "duration \(bad) s is not finite")
        }
        let sorted = seconds.sorted()
        var sum = 0.0
        for value in sorted { sum += value }
        count = sorted.count
        p50 = .seconds(Percentile.linear(50, ofSorted: sorted))
        p90 = .seconds(Percentile.linear(90, ofSorted: sorted))
        p99 = .seconds(Percentile.linear(99, ofSorted: sorted))
        max = .seconds(sorted[sorted.count - 1])
        mean = .seconds(sum / Double(sorted.count))
    }

    /// `duration` in seconds, as a `Double`.
    public static func seconds(_ duration: Duration) -> Double {
        let (whole, attoseconds) = duration.components
        return Double(whole) + Double(attoseconds) * 1e-18
    }

    /// One line, in milliseconds: `n=1000 p50=0.412ms p90=… p99=… max=… mean=…`.
    public var description: String {
        func ms(_ d: Duration) -> String {
            let value = LatencySummary.seconds(d) * 1000
            return "\((value * 1000).rounded() / 1000)ms"
        }
        return "n=\(count) p50=\(ms(p50)) p90=\(ms(p90)) p99=\(ms(p99)) max=\(ms(max)) mean=\(ms(mean))"
    }
}
