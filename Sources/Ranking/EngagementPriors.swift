/// One Beta prior per rate the store reports.
public struct EngagementPriors: Sendable, Hashable {
    /// Clicks per impression.
    public var click: BetaPrior
    /// Saves per impression.
    public var save: BetaPrior
    /// Hides per impression.
    public var hide: BetaPrior
    /// Purchases per impression.
    public var purchase: BetaPrior

    /// Priors; the defaults are weak (strength 10) around typical feed rates
    /// (5% click, 2% save, 1% hide, 0.5% purchase) until fitted from data.
    public init(
        click: BetaPrior = BetaPrior(alpha: 0.5, beta: 9.5), save: BetaPrior = BetaPrior(alpha: 0.2, beta: 9.8),
        hide: BetaPrior = BetaPrior(alpha: 0.1, beta: 9.9), purchase: BetaPrior = BetaPrior(alpha: 0.05, beta: 9.95)
    ) {
        self.click = click
        self.save = save
        self.hide = hide
        self.purchase = purchase
    }

    /// Smoothed rates of decayed counts.
    public func rates(_ c: EngagementCounts) -> EngagementRates {
        let n = c[.impression]
        return EngagementRates(
            impressions: n,
            click: click.smoothedRate(successes: c[.click], trials: n),
            save: save.smoothedRate(successes: c[.save], trials: n),
            hide: hide.smoothedRate(successes: c[.hide], trials: n),
            purchase: purchase.smoothedRate(successes: c[.purchase], trials: n))
    }
}

/// An item's smoothed engagement rates.
public struct EngagementRates: Sendable, Hashable {
    /// Decayed impressions the rates rest on.
    public var impressions: Double
    /// Smoothed clicks per impression.
    public var click: Double
    /// Smoothed saves per impression.
    public var save: Double
    /// Smoothed hides per impression.
    public var hide: Double
    /// Smoothed purchases per impression.
    public var purchase: Double

    /// Rates from their parts.
    public init(impressions: Double, click: Double, save: Double, hide: Double, purchase: Double) {
        self.impressions = impressions
        self.click = click
        self.save = save
        self.hide = hide
        self.purchase = purchase
    }
}
