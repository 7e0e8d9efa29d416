import Foundation

/// Exponentially decayed counts of each ``EngagementKind`` as of one instant.
///
/// An event of weight 1 at time t contributes 2^(−(now − t) / halfLife) at
/// `now`. The counts are stored as of ``time`` and rescaled on read, so an
/// update is O(1) and needs no background sweep.
///
/// ```swift
/// var c = EngagementCounts()
/// c.add(.click, at: t0, halfLife: 3600)
/// c.decayed(to: t0 + 3600, halfLife: 3600)[.click]   // 0.5
/// ```
public struct EngagementCounts: Sendable, Hashable {
    /// The counts as of ``time``, one lane per kind (impression, click, save, hide, purchase).
    public internal(set) var values: SIMD8<Double>
    /// The instant the counts are expressed at, in seconds since 1970.
    public internal(set) var time: Double

    /// All zero, as of the epoch.
    public init() {
        values = .zero
        time = 0
    }

    init(values: SIMD8<Double>, time: Double) {
        self.values = values
        self.time = time
    }

    /// The decayed count of `kind` as of ``time``.
    public subscript(kind: EngagementKind) -> Double { values[kind.slot] }

    /// The sum over every kind, as of ``time``; the store's measure of how much an entry matters.
    public var total: Double { values.sum() }

    /// 2^(−elapsed / halfLife).
    @inlinable
    static func decay(_ elapsed: Double, halfLife: Double) -> Double { exp2(-elapsed / halfLife) }

    /// The same counts expressed at `now` (decayed forward; an earlier `now` is returned unchanged).
    public func decayed(to now: Double, halfLife: Double) -> EngagementCounts {
        guard now > time else { return self }
        return EngagementCounts(values: values * Self.decay(now - time, halfLife: halfLife), time: now)
    }

    /// Adds one event of `kind` at `eventTime` (seconds since 1970). An event
    /// older than ``time`` is added already decayed; a newer one moves ``time`` forward.
    public mutating func add(_ kind: EngagementKind, at eventTime: Double, halfLife: Double, weight: Double = 1) {
        if eventTime > time {
            if values != .zero { values *= Self.decay(eventTime - time, halfLife: halfLife) }
            time = eventTime
            values[kind.slot] += weight
        } else {
            values[kind.slot] += weight * Self.decay(time - eventTime, halfLife: halfLife)
        }
    }
}
