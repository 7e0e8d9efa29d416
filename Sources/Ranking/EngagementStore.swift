import Foundation
import SearchCore
import Synchronization

/// Engagement signals per item and per (user, item), time-decayed, with
/// smoothed rates: what a ranker reads as "how do people respond to this?".
///
/// Events are ingested from any thread (``record(_:)-(EngagementEvent)``
/// takes one lock per call; the batch overload one per batch). Counts decay
/// with a half-life (``Configuration/halfLife``). Rates (click, save, hide,
/// purchase per impression) are smoothed with Beta priors fitted from the
/// store's own items by ``refitPriors(minimumImpressions:)``. Memory is
/// bounded: past ``Configuration/maxItems`` items (or
/// ``Configuration/maxPairs`` pairs), the entries whose decayed total is
/// smallest — the long tail nobody has touched lately — are evicted, a tenth
/// of the table at a time, so eviction costs O(log n) per event amortised.
///
/// ```swift
/// let store = EngagementStore(configuration: .init(halfLife: 7 * 86_400))
/// store.record(EngagementEvent(item: 42, user: UserID("ana"), kind: .click, time: Date()))
/// let rates = store.rates(item: 42, at: Date())
/// try store.write(to: snapshotURL)
/// ```
public final class EngagementStore: Sendable {
    /// The store's knobs.
    public struct Configuration: Sendable, Hashable {
        /// Seconds for a count to halve. Default 7 days.
        public var halfLife: Double
        /// Most items kept before the least engaged are evicted. Default 1,000,000.
        public var maxItems: Int
        /// Most (user, item) pairs kept before the least engaged are evicted. Default 4,000,000.
        public var maxPairs: Int

        /// Knobs; preconditions: a positive, finite half-life and positive limits.
        public init(halfLife: Double = 7 * 86_400, maxItems: Int = 1_000_000, maxPairs: Int = 4_000_000) {
            precondition(halfLife > 0 && halfLife.isFinite, "the half-life must be positive and finite, got \(halfLife)")
            precondition(maxItems > 0 && maxPairs > 0, "capacity limits must be positive")
            self.halfLife = halfLife
            self.maxItems = maxItems
            self.maxPairs = maxPairs
        }
    }

    /// A (user, item) key.
    struct PairKey: Hashable, Sendable {
        var user: UInt64
        var item: UInt64
    }

    /// Everything behind the lock.
    struct State: Sendable {
        var items: [VectorID: EngagementCounts] = [:]
        var pairs: [PairKey: EngagementCounts] = [:]
        /// The latest event time seen (seconds since 1970).
        var latest: Double = 0
        var priors = EngagementPriors()
        var evictedItems = 0
        var evictedPairs = 0
    }

    /// The configuration the store was made with.
    public let configuration: Configuration
    let state: Mutex<State>

    /// An empty store.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.state = Mutex(State())
    }

    init(configuration: Configuration, state: State) {
        self.configuration = configuration
        self.state = Mutex(state)
    }

    /// Records one event.
    public func record(_ event: EngagementEvent) {
        state.withLock { ingest(event, into: &$0) }
    }

    /// Records events under one acquisition of the lock.
    public func record<S: Sequence>(_ events: S) where S.Element == EngagementEvent {
        state.withLock { s in
            for event in events { ingest(event, into: &s) }
        }
    }

    private func ingest(_ event: EngagementEvent, into s: inout State) {
        let t = event.time.timeIntervalSince1970
        guard t.isFinite else { return }
        let h = configuration.halfLife
        s.latest = max(s.latest, t)
        s.items[event.item, default: EngagementCounts()].add(event.kind, at: t, halfLife: h)
        if s.items.count > configuration.maxItems {
            s.evictedItems += Self.evict(&s.items, keep: configuration.maxItems * 9 / 10, now: s.latest, halfLife: h)
        }
        if let user = event.user {
            let key = PairKey(user: user.rawValue, item: event.item.rawValue)
            s.pairs[key, default: EngagementCounts()].add(event.kind, at: t, halfLife: h)
            if s.pairs.count > configuration.maxPairs {
                s.evictedPairs += Self.evict(&s.pairs, keep: configuration.maxPairs * 9 / 10, now: s.latest, halfLife: h)
            }
        }
    }

    /// Drops all but the `keep` entries with the largest decayed totals; returns how many went.
    static func evict<Key: Hashable>(
        _ table: inout [Key: EngagementCounts], keep: Int, now: Double, halfLife: Double
    ) -> Int {
        let ranked = table.map { (key: $0.key, weight: $0.value.decayed(to: now, halfLife: halfLife).total) }
            .sorted { $0.weight > $1.weight }
        let before = table.count
        var kept: [Key: EngagementCounts] = [:]
        kept.reserveCapacity(keep)
        for entry in ranked.prefix(keep) { kept[entry.key] = table[entry.key] }
        table = kept
        return before - kept.count
    }

    /// An item's counts decayed to `time`.
    public func counts(item: VectorID, at time: Date) -> EngagementCounts {
        let t = time.timeIntervalSince1970
        return state.withLock { ($0.items[item] ?? EngagementCounts()).decayed(to: t, halfLife: configuration.halfLife) }
    }

    /// A (user, item) pair's counts decayed to `time`.
    public func counts(user: UserID, item: VectorID, at time: Date) -> EngagementCounts {
        let t = time.timeIntervalSince1970
        let key = PairKey(user: user.rawValue, item: item.rawValue)
        return state.withLock { ($0.pairs[key] ?? EngagementCounts()).decayed(to: t, halfLife: configuration.halfLife) }
    }

    /// One user's counts for many items, decayed to `time`, under one acquisition of the lock.
    public func counts(user: UserID, items: [VectorID], at time: Date) -> [EngagementCounts] {
        let t = time.timeIntervalSince1970
        return state.withLock { s in
            items.map { item in
                (s.pairs[PairKey(user: user.rawValue, item: item.rawValue)] ?? EngagementCounts())
                    .decayed(to: t, halfLife: configuration.halfLife)
            }
        }
    }

    /// An item's smoothed rates at `time`, with the current priors.
    public func rates(item: VectorID, at time: Date) -> EngagementRates {
        let t = time.timeIntervalSince1970
        return state.withLock { s in
            s.priors.rates((s.items[item] ?? EngagementCounts()).decayed(to: t, halfLife: configuration.halfLife))
        }
    }

    /// Smoothed rates for many items under one acquisition of the lock.
    public func rates(items: [VectorID], at time: Date) -> [EngagementRates] {
        let t = time.timeIntervalSince1970
        return state.withLock { s in
            items.map { s.priors.rates((s.items[$0] ?? EngagementCounts()).decayed(to: t, halfLife: configuration.halfLife)) }
        }
    }

    /// The priors rates are smoothed with.
    public var priors: EngagementPriors { state.withLock { $0.priors } }

    /// Refits the priors by the method of moments over items with at least
    /// `minimumImpressions` decayed impressions, and keeps them.
    ///
    /// - Complexity: O(items), under the lock.
    @discardableResult
    public func refitPriors(minimumImpressions: Double = 20) -> EngagementPriors {
        state.withLock { s in
            let now = s.latest
            let h = configuration.halfLife
            let counts = s.items.values.map { $0.decayed(to: now, halfLife: h) }
            func fit(_ kind: EngagementKind, _ fallback: BetaPrior) -> BetaPrior {
                BetaPrior.methodOfMoments(
                    counts.lazy.map { (successes: $0[kind], trials: $0[.impression]) },
                    minimumTrials: minimumImpressions, fallback: fallback)
            }
            let defaults = EngagementPriors()
            s.priors = EngagementPriors(
                click: fit(.click, defaults.click), save: fit(.save, defaults.save),
                hide: fit(.hide, defaults.hide), purchase: fit(.purchase, defaults.purchase))
            return s.priors
        }
    }

    /// How many items and pairs are held, and how many were evicted so far.
    public var statistics: (items: Int, pairs: Int, evictedItems: Int, evictedPairs: Int) {
        state.withLock { ($0.items.count, $0.pairs.count, $0.evictedItems, $0.evictedPairs) }
    }
}
