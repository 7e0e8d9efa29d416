import Foundation
import SearchCore

/// A user's embedding from their recent interactions: the recency-weighted
/// mean of the embeddings of items they engaged with, items they hid pulling
/// the other way. The "user tower" of a two-tower retriever with no
/// parameters to learn; ``LinearUserTower`` is the learned one.
///
/// u = normalise(Σᵢ wᵢ · 2^(−ageᵢ / halfLife) · eᵢ), with wᵢ the weight of the
/// interaction's kind (``weights``): positive for clicks, saves and
/// purchases, negative for hides, 0 for a bare impression.
public struct UserVectorPooling: Sendable {
    /// How much each kind of interaction pulls the user vector toward (or,
    /// negative, away from) the item. Defaults: click 1, save 2, purchase 3,
    /// hide −2, impression 0.
    public var weights: [EngagementKind: Float]
    /// Seconds for an interaction's pull to halve. Default 14 days.
    public var halfLife: Double

    /// Pooling with the given weights and half-life.
    public init(
        weights: [EngagementKind: Float] = [.impression: 0, .click: 1, .save: 2, .purchase: 3, .hide: -2],
        halfLife: Double = 14 * 86_400
    ) {
        precondition(halfLife > 0, "the pooling half-life must be positive")
        self.weights = weights
        self.halfLife = halfLife
    }

    /// The user vector at `now` from `history`, unit length; nil when nothing
    /// in the history has a stored embedding and a non-zero weight (a cold user).
    public func userVector(history: [EngagementEvent], items: EmbeddingTable, now: Date) -> [Float]? {
        let d = items.dimension
        var sum = [Double](repeating: 0, count: d)
        var any = false
        let t = now.timeIntervalSince1970
        items.values.withUnsafeBufferPointer { values in
            for event in history {
                guard let w = weights[event.kind], w != 0, let row = items.row(of: event.item) else { continue }
                let age = max(t - event.time.timeIntervalSince1970, 0)
                let scale = Double(w) * exp2(-age / halfLife)
                for j in 0..<d { sum[j] += scale * Double(values[row * d + j]) }
                any = true
            }
        }
        guard any else { return nil }
        let norm = sum.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0, norm.isFinite else { return nil }
        return sum.map { Float($0 / norm) }
    }
}
