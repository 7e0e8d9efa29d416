import SearchCore

/// What serving one configuration's queries cost: latency at a stated
/// concurrency, CPU time and memory. A bake-off measures one per candidate;
/// a ``ComparisonGate`` can hold each to a limit.
public struct RunCost: Sendable, Hashable, Codable {
    /// Queries timed (every pass counted).
    public var queries: Int
    /// Queries in flight at once while timing.
    public var concurrency: Int
    /// Latency percentiles of one query, in seconds (NumPy's linear
    /// definition, see ``Percentile``).
    public var p50: Double
    public var p95: Double
    public var p99: Double
    /// Queries per second of wall time at ``concurrency``.
    public var queriesPerSecond: Double
    /// CPU time (user + system, every thread) per thousand queries, in seconds.
    public var cpuSecondsPerThousandQueries: Double
    /// The process's peak resident memory while this configuration was
    /// loaded and queried, in bytes; `nil` where the platform cannot reset
    /// the peak between configurations.
    public var peakMemoryBytes: Int?

    /// A cost from measured figures.
    public init(
        queries: Int, concurrency: Int, p50: Double, p95: Double, p99: Double, queriesPerSecond: Double,
        cpuSecondsPerThousandQueries: Double, peakMemoryBytes: Int?
    ) {
        self.queries = queries
        self.concurrency = concurrency
        self.p50 = p50
        self.p95 = p95
        self.p99 = p99
        self.queriesPerSecond = queriesPerSecond
        self.cpuSecondsPerThousandQueries = cpuSecondsPerThousandQueries
        self.peakMemoryBytes = peakMemoryBytes
    }

    /// The cost of `latencies` (seconds, one per query) measured over
    /// `wallSeconds` of wall time and `cpuSeconds` of CPU time.
    ///
    /// - Throws: `SearchError.Code.invalidArgument` when there are no
    ///   latencies, one is negative or NaN, or a time is not positive.
    public init(
        latencies: [Double], concurrency: Int, wallSeconds: Double, cpuSeconds: Double, peakMemoryBytes: Int?
    ) throws(SearchError) {
        guard !latencies.isEmpty, latencies.allSatisfy({ $0 >= 0 }) else {
            throw SearchError(.invalidArgument, "a cost needs at least one latency, none negative or NaN")
        }
        guard wallSeconds > 0, cpuSeconds >= 0, concurrency >= 1 else {
            throw SearchError(
                .invalidArgument, "wall time \(wallSeconds) s, CPU time \(cpuSeconds) s and concurrency \(concurrency) must be positive")
        }
        let sorted = latencies.sorted()
        self.init(
            queries: latencies.count, concurrency: concurrency, p50: Percentile.linear(50, ofSorted: sorted),
            p95: Percentile.linear(95, ofSorted: sorted), p99: Percentile.linear(99, ofSorted: sorted),
            queriesPerSecond: Double(latencies.count) / wallSeconds,
            cpuSecondsPerThousandQueries: cpuSeconds / Double(latencies.count) * 1000, peakMemoryBytes: peakMemoryBytes)
    }
}
