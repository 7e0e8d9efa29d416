import Foundation
import SearchCore

/// A logistic-regression scorer over standardised features:
/// logit = b + Σⱼ wⱼ · (xⱼ − μⱼ) / σⱼ, probability = σ(logit).
///
/// Train one in Swift with ``train(rows:labels:featureCount:options:)``
/// (L2-regularised log loss, L-BFGS), or build one from known weights.
/// NaN features count as the training mean (they contribute 0).
public struct LogisticRegression: Sendable, Hashable {
    /// One weight per standardised feature.
    public var weights: [Double]
    /// The intercept.
    public var bias: Double
    /// Per-feature means subtracted before weighting.
    public var means: [Double]
    /// Per-feature scales divided by before weighting (1 where a feature is constant).
    public var scales: [Double]

    /// A model from its parameters; precondition: equal, non-zero lengths and positive scales.
    public init(weights: [Double], bias: Double, means: [Double]? = nil, scales: [Double]? = nil) {
        precondition(!weights.isEmpty, "a logistic regression needs at least one feature")
        self.weights = weights
        self.bias = bias
        self.means = means ?? [Double](repeating: 0, count: weights.count)
        self.scales = scales ?? [Double](repeating: 1, count: weights.count)
        precondition(self.means.count == weights.count && self.scales.count == weights.count,
            "weights, means and scales must have one entry per feature")
        precondition(self.scales.allSatisfy { $0 > 0 }, "feature scales must be positive")
    }

    /// Features per row.
    public var featureCount: Int { weights.count }

    /// The logits of rows laid end to end, into `output` (one per row).
    ///
    /// - Throws: ``SearchError/Code/dimensionMismatch`` for ragged rows or a wrong output size.
    /// - Complexity: O(rows × features); the standardisation is folded into
    ///   the weights once per call, so a row costs one dot product.
    public func logits(_ rows: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>)
        throws(SearchError)
    {
        let d = featureCount
        guard rows.count % d == 0, output.count == rows.count / d else {
            throw SearchError(.dimensionMismatch,
                "\(rows.count) features and \(output.count) outputs do not fit rows of \(d) features")
        }
        guard let x = rows.baseAddress, let out = output.baseAddress else { return }
        // w'ⱼ = wⱼ / σⱼ and b' = b − Σ w'ⱼ μⱼ: the same function, one multiply-add per feature.
        withUnsafeTemporaryAllocation(of: Double.self, capacity: d) { folded in
            var intercept = bias
            for j in 0..<d {
                folded[j] = weights[j] / scales[j]
                intercept -= folded[j] * means[j]
            }
            let w = folded.baseAddress!
            for r in 0..<output.count {
                let row = x + r * d
                var s = intercept
                for j in 0..<d {
                    let v = row[j]
                    s += v.isNaN ? w[j] * means[j] : w[j] * v
                }
                out[r] = s
            }
        }
    }

    /// Logits of rows in an array.
    public func logits(_ rows: [Double]) throws(SearchError) -> [Double] {
        var out = [Double](repeating: 0, count: rows.count / featureCount)
        try rows.withUnsafeBufferPointer { (r) throws(SearchError) in
            try out.withUnsafeMutableBufferPointer { (o) throws(SearchError) in try logits(r, into: o) }
        }
        return out
    }

    /// Probabilities σ(logit) of rows in an array.
    public func probabilities(_ rows: [Double]) throws(SearchError) -> [Double] {
        try logits(rows).map { 1 / (1 + exp(-$0)) }
    }
}
