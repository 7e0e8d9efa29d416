import SearchCore

/// Collects the durations of repeated operations for a ``LatencySummary``.
///
/// A value type: give each task its own recorder and merge them with
/// ``append(contentsOf:)``; no lock is involved.
///
/// ```swift
/// var recorder = LatencyRecorder(reservingCapacity: queries.count)
/// for query in queries {
///     let hits = try recorder.measure { try index.search(query, k: 10) }
///     results.append(hits)
/// }
/// let summary = try recorder.summary()
/// ```
public struct LatencyRecorder: Sendable {
    /// The recorded durations, in recording order.
    public private(set) var durations: [Duration] = []

    /// An empty recorder with room for `capacity` durations, so recording
    /// does not allocate inside a timed loop.
    public init(reservingCapacity capacity: Int = 0) {
        durations.reserveCapacity(capacity)
    }

    /// Records one duration measured elsewhere.
    public mutating func record(_ duration: Duration) { durations.append(duration) }

    /// Records the durations of another recorder.
    public mutating func append(contentsOf other: LatencyRecorder) { durations.append(contentsOf: other.durations) }

    /// Runs `body`, records how long it took on the continuous clock, and
    /// returns its result. A throwing `body` is not recorded.
    public mutating func measure<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        let clock = ContinuousClock()
        let start = clock.now
        let result = try body()
        durations.append(start.duration(to: clock.now))
        return result
    }

    /// The summary of everything recorded.
    ///
    /// - Throws: `SearchError` with code `invalidArgument` when
    ///   nothing was recorded.
    public func summary() throws(SearchError) -> LatencySummary { try LatencySummary(durations) }
}
