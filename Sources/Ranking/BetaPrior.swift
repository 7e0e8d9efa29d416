/// A Beta(α, β) prior on a rate, used to smooth rates from few trials.
///
/// The smoothed rate of `s` successes in `n` trials is the posterior mean
/// (s + α) / (n + α + β): an item with no impressions gets the prior mean
/// α / (α + β), and one with many gets close to s / n.
public struct BetaPrior: Sendable, Hashable, CustomStringConvertible {
    /// α > 0: prior successes.
    public var alpha: Double
    /// β > 0: prior failures.
    public var beta: Double

    /// A prior; precondition α, β > 0.
    public init(alpha: Double, beta: Double) {
        precondition(alpha > 0 && beta > 0 && alpha.isFinite && beta.isFinite, "a Beta prior needs finite α, β > 0, got \(alpha), \(beta)")
        self.alpha = alpha
        self.beta = beta
    }

    /// The prior mean α / (α + β).
    public var mean: Double { alpha / (alpha + beta) }

    /// The posterior mean (s + α) / (n + α + β).
    @inlinable
    public func smoothedRate(successes: Double, trials: Double) -> Double {
        (successes + alpha) / (trials + alpha + beta)
    }

    /// Fits a prior by the method of moments to observed `(successes, trials)` pairs.
    ///
    /// Each pair with at least `minimumTrials` trials gives a rate pᵢ = sᵢ / nᵢ;
    /// with m their mean and v their (population) variance, a Beta with that
    /// mean and variance has α + β = m(1 − m) / v − 1, α = m(α + β),
    /// β = (1 − m)(α + β). When the rates do not vary (v = 0), vary more than
    /// any Beta can (v ≥ m(1 − m)), or there are fewer than two pairs, the
    /// result is `fallback` recentred on m (when m is strictly inside (0, 1)).
    ///
    /// - Complexity: O(pairs).
    public static func methodOfMoments<S: Sequence>(
        _ observations: S, minimumTrials: Double = 1, fallback: BetaPrior = BetaPrior(alpha: 1, beta: 1)
    ) -> BetaPrior where S.Element == (successes: Double, trials: Double) {
        // Welford's running mean and variance: stable for rates near each other.
        var count = 0.0
        var m = 0.0
        var squares = 0.0
        for (s, n) in observations where n >= minimumTrials && n > 0 {
            let p = min(max(s / n, 0), 1)
            count += 1
            let delta = p - m
            m += delta / count
            squares += delta * (p - m)
        }
        let strength = fallback.alpha + fallback.beta
        guard count >= 2 else { return fallback }
        let v = max(squares / count, 0)
        guard m > 0, m < 1 else { return fallback }
        guard v > 0, v < m * (1 - m) else { return BetaPrior(alpha: m * strength, beta: (1 - m) * strength) }
        let total = m * (1 - m) / v - 1
        return BetaPrior(alpha: m * total, beta: (1 - m) * total)
    }

    /// `Beta(α, β)`.
    public var description: String { "Beta(\(alpha), \(beta))" }
}
