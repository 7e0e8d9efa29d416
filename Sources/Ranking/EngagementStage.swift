import Foundation
import SearchCore

/// How much each kind of engagement says about an item, for ``EngagementStage``.
///
/// An item's *engagement* is Σ weight × (its smoothed rate of that kind −
/// the prior's mean rate), so an item nobody has seen scores 0 and the
/// weights need no calibration against the traffic level. The defaults count
/// a save as two clicks and a hide as four clicks against the item: a click
/// is cheap to give, a save is a stronger statement, and a hide is rare and
/// deliberate. They are a starting point; tune them with the evaluation
/// harness on your own traffic.
public struct EngagementWeights: Sendable, Hashable {
    /// Weight of the click rate. Default 1.
    public var click: Double
    /// Weight of the save rate. Default 2.
    public var save: Double
    /// Weight of the hide rate; negative pushes hidden items down. Default −4.
    public var hide: Double
    /// Weight of the purchase rate. Default 0 (most catalogues have no purchases).
    public var purchase: Double

    /// Weights per kind (all finite).
    public init(click: Double = 1, save: Double = 2, hide: Double = -4, purchase: Double = 0) {
        precondition([click, save, hide, purchase].allSatisfy(\.isFinite), "engagement weights must be finite")
        self.click = click
        self.save = save
        self.hide = hide
        self.purchase = purchase
    }

    /// Σ weight × rate.
    @inlinable
    public func combine(_ r: EngagementRates) -> Double {
        click * r.click + save * r.save + hide * r.hide + purchase * r.purchase
    }
}

/// A ranking stage that reorders candidates by what people did with them:
/// each score is multiplied by exp(``strength`` × engagement lift), and the
/// items the searching user hid are dropped for that user.
///
/// The lift is ``EngagementWeights/combine(_:)`` of the item's smoothed rates
/// minus the same of the priors' means (see ``EngagementStore``), so it is 0
/// for an item with no history. The multiplicative form keeps fused scores
/// positive and leaves the order of untouched items unchanged.
///
/// ```swift
/// let stage = EngagementStage(store: engagement, weights: .init(click: 1, save: 2, hide: -4), strength: 1)
/// let ranked = try stage.rerank(fused, context: RankingContext(userID: "ada"))
/// ```
///
/// Adds `"engagement"` (the lift) to each candidate's explanation.
public struct EngagementStage: Reranker {
    /// Where engagement is read from.
    public let store: EngagementStore
    /// What each kind of engagement is worth.
    public var weights: EngagementWeights
    /// How strongly the lift reorders: 0 leaves scores unchanged (hidden
    /// items are still dropped for the user who hid them). Default 1.
    public var strength: Double

    /// A stage reading `store`.
    public init(store: EngagementStore, weights: EngagementWeights = EngagementWeights(), strength: Double = 1) {
        precondition(strength.isFinite, "the engagement strength must be finite")
        self.store = store
        self.weights = weights
        self.strength = strength
    }

    /// The candidates rescored and re-sorted, best first (ties by the smaller
    /// id), without those `context.userID` hid.
    ///
    /// - Complexity: O(n log n) for n candidates, one lock of the store per call.
    public func rerank(_ candidates: [RankedCandidate], context: RankingContext) throws(SearchError) -> [RankedCandidate] {
        let priors = store.priors
        let baseline = weights.combine(
            EngagementRates(
                impressions: 0, click: priors.click.mean, save: priors.save.mean, hide: priors.hide.mean,
                purchase: priors.purchase.mean))
        let ids = candidates.map(\.id)
        let rates = store.rates(items: ids, at: context.now)
        let hidden: [Bool]
        if let user = context.userID {
            hidden = store.counts(user: UserID(user), items: ids, at: context.now).map { $0[.hide] > 0 }
        } else {
            hidden = Array(repeating: false, count: candidates.count)
        }
        var out: [RankedCandidate] = []
        out.reserveCapacity(candidates.count)
        for i in candidates.indices where !hidden[i] {
            var c = candidates[i]
            let lift = weights.combine(rates[i]) - baseline
            c.explanation["engagement"] = lift
            c.score *= Foundation.exp(strength * lift)
            out.append(c)
        }
        out.sort { $0.score > $1.score || ($0.score == $1.score && $0.id < $1.id) }
        return out
    }
}
