import Foundation
import SearchCore

/// A score → probability of relevance map, `1 / (1 + exp(a·s + b))`, fitted
/// to judged scores by Platt's method.
///
/// Platt (1999), "Probabilistic Outputs for Support Vector Machines":
/// targets are smoothed to `(n₊ + 1) / (n₊ + 2)` for positives and
/// `1 / (n₋ + 2)` for negatives, and `(a, b)` minimise the cross-entropy
/// to them. Solved by Newton's method with backtracking, as in Lin, Lin &
/// Weng (2007), "A note on Platt's probabilistic outputs for support vector
/// machines". scikit-learn's `CalibratedClassifierCV(method="sigmoid")`
/// minimises the same loss from the same start (by L-BFGS), so both reach
/// the same minimum.
///
/// ```swift
/// let platt = try PlattScaling.fit(scores: [0.9, 0.2, 0.7], labels: [true, false, true])
/// let p = platt.probability(0.8)
/// ```
public struct PlattScaling: Sendable, Hashable, Codable {
    /// The slope: negative when larger scores are more often relevant.
    public var a: Double
    /// The intercept.
    public var b: Double

    /// A map with known parameters.
    public init(a: Double, b: Double) {
        self.a = a
        self.b = b
    }

    /// The probability of relevance of `score`.
    public func probability(_ score: Double) -> Double {
        let z = a * score + b
        // Written so neither branch overflows: exp of a large positive number never runs.
        return z >= 0 ? exp(-z) / (1 + exp(-z)) : 1 / (1 + exp(z))
    }

    /// Fits the map to `scores` judged by `labels` (true = relevant).
    ///
    /// - Throws: `SearchError.Code.invalidArgument` when the arrays differ in
    ///   length or are empty, or a score is NaN or infinite.
    /// - Complexity: O(n) per Newton step; it converges in tens of steps.
    public static func fit(scores: [Double], labels: [Bool]) throws(SearchError) -> PlattScaling {
        try BinaryScores.check(labels: labels, scores: scores, "Platt scaling")
        if let bad = scores.firstIndex(where: { !$0.isFinite }) {
            throw SearchError(.invalidArgument, "Platt scaling: score at index \(bad) is not finite")
        }
        let positives = Double(labels.reduce(0) { $0 + ($1 ? 1 : 0) })
        let negatives = Double(labels.count) - positives
        let high = (positives + 1) / (positives + 2)
        let low = 1 / (negatives + 2)
        let targets = labels.map { $0 ? high : low }

        // f(a, b) = Σ t·z + log(1 + exp(−z)), z = a·s + b: the cross-entropy
        // of p = 1 / (1 + exp(z)) against targets 1 − t ... written as in
        // Lin et al., with t the target probability of relevance.
        func loss(_ a: Double, _ b: Double) -> Double {
            var total = 0.0
            for (s, t) in zip(scores, targets) {
                let z = a * s + b
                total += z >= 0 ? t * z + log1p(exp(-z)) : (t - 1) * z + log1p(exp(z))
            }
            return total
        }

        var a = 0.0
        var b = log((negatives + 1) / (positives + 1))
        var current = loss(a, b)
        let sigma = 1e-12  // keeps the Hessian positive definite (Lin et al.)
        for _ in 0..<200 {
            var h11 = sigma, h22 = sigma, h21 = 0.0, g1 = 0.0, g2 = 0.0
            for (s, t) in zip(scores, targets) {
                let z = a * s + b
                // p = P(relevant) = 1 / (1 + exp(z)), q = 1 − p.
                let (p, q) = z >= 0 ? (exp(-z) / (1 + exp(-z)), 1 / (1 + exp(-z))) : (1 / (1 + exp(z)), exp(z) / (1 + exp(z)))
                let d2 = p * q
                h11 += s * s * d2
                h22 += d2
                h21 += s * d2
                let d1 = t - p
                g1 += s * d1
                g2 += d1
            }
            if abs(g1) < 1e-12 * Double(scores.count) && abs(g2) < 1e-12 * Double(scores.count) { break }
            let det = h11 * h22 - h21 * h21
            let da = -(h22 * g1 - h21 * g2) / det
            let db = -(-h21 * g1 + h11 * g2) / det
            let slope = g1 * da + g2 * db
            var step = 1.0
            var moved = false
            while step >= 1e-10 {
                let na = a + step * da, nb = b + step * db
                let next = loss(na, nb)
                if next < current + 1e-4 * step * slope {
                    a = na
                    b = nb
                    current = next
                    moved = true
                    break
                }
                step /= 2
            }
            if !moved { break }
        }
        return PlattScaling(a: a, b: b)
    }
}
