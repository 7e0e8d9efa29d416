import SearchCore

/// A non-decreasing score → probability of relevance map fitted to judged
/// scores by isotonic regression (pool adjacent violators), linear between
/// its points and clamped beyond them.
///
/// What scikit-learn's `IsotonicRegression(out_of_bounds="clip")` fits and
/// predicts: equal scores are pooled first (their labels averaged), then
/// adjacent blocks that decrease are merged into their weighted mean
/// (Barlow et al. (1972), "Statistical Inference under Order Restrictions";
/// Zadrozny & Elkan (2002) for calibration).
///
/// ```swift
/// let iso = try IsotonicRegression.fit(scores: [0.9, 0.2, 0.7], labels: [true, false, true])
/// let p = iso.probability(0.8)
/// ```
public struct IsotonicRegression: Sendable, Hashable, Codable {
    /// The distinct scores, ascending.
    public private(set) var thresholds: [Double]
    /// The fitted probability at each threshold, non-decreasing.
    public private(set) var values: [Double]

    /// A map through known points.
    ///
    /// - Throws: `SearchError.Code.invalidArgument` unless there is at least
    ///   one point, as many values as thresholds, thresholds strictly
    ///   increase, and values do not decrease.
    public init(thresholds: [Double], values: [Double]) throws(SearchError) {
        guard !thresholds.isEmpty, thresholds.count == values.count else {
            throw SearchError(.invalidArgument, "isotonic regression needs as many values as thresholds, at least one")
        }
        for i in 1..<thresholds.count {
            guard thresholds[i] > thresholds[i - 1], values[i] >= values[i - 1] else {
                throw SearchError(.invalidArgument, "isotonic regression: thresholds must increase and values not decrease (at \(i))")
            }
        }
        self.thresholds = thresholds
        self.values = values
    }

    /// The probability of relevance of `score`.
    public func probability(_ score: Double) -> Double {
        if score <= thresholds[0] { return values[0] }
        if score >= thresholds[thresholds.count - 1] { return values[values.count - 1] }
        var lo = 0
        var hi = thresholds.count - 1
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if thresholds[mid] <= score { lo = mid } else { hi = mid }
        }
        let t = (score - thresholds[lo]) / (thresholds[hi] - thresholds[lo])
        return values[lo] + t * (values[hi] - values[lo])
    }

    /// Fits the map to `scores` judged by `labels` (true = relevant).
    ///
    /// - Throws: `SearchError.Code.invalidArgument` when the arrays differ in
    ///   length or are empty, or a score is NaN or infinite.
    /// - Complexity: O(n log n) (the sort); pooling is O(n).
    public static func fit(scores: [Double], labels: [Bool]) throws(SearchError) -> IsotonicRegression {
        try BinaryScores.check(labels: labels, scores: scores, "isotonic regression")
        if let bad = scores.firstIndex(where: { !$0.isFinite }) {
            throw SearchError(.invalidArgument, "isotonic regression: score at index \(bad) is not finite")
        }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        // Equal scores pooled: (score, mean label, weight).
        var xs: [Double] = []
        var sums: [Double] = []
        var weights: [Double] = []
        for i in order {
            if let last = xs.last, last == scores[i] {
                sums[sums.count - 1] += labels[i] ? 1 : 0
                weights[weights.count - 1] += 1
            } else {
                xs.append(scores[i])
                sums.append(labels[i] ? 1 : 0)
                weights.append(1)
            }
        }
        // Pool adjacent violators over blocks (mean, weight, how many points).
        var means: [Double] = []
        var blockWeights: [Double] = []
        var sizes: [Int] = []
        for i in xs.indices {
            means.append(sums[i] / weights[i])
            blockWeights.append(weights[i])
            sizes.append(1)
            while means.count > 1 && means[means.count - 2] > means[means.count - 1] {
                let w = blockWeights[blockWeights.count - 2] + blockWeights[blockWeights.count - 1]
                let m = (means[means.count - 2] * blockWeights[blockWeights.count - 2]
                    + means[means.count - 1] * blockWeights[blockWeights.count - 1]) / w
                let n = sizes[sizes.count - 2] + sizes[sizes.count - 1]
                means.removeLast(2)
                blockWeights.removeLast(2)
                sizes.removeLast(2)
                means.append(m)
                blockWeights.append(w)
                sizes.append(n)
            }
        }
        var values: [Double] = []
        values.reserveCapacity(xs.count)
        for (m, n) in zip(means, sizes) { values += repeatElement(m, count: n) }
        return try IsotonicRegression(thresholds: xs, values: values)
    }
}
