import SearchCore

/// The area under the ROC curve of scores that should rank positives above
/// negatives: the probability that a random positive outscores a random
/// negative, a tie counting one half.
///
/// Computed as the Mann–Whitney U statistic with tied scores given their
/// average rank, which equals the trapezoidal area under the ROC curve whose
/// points are the distinct score thresholds — what scikit-learn's
/// `roc_auc_score` computes for binary labels. Ties never depend on input
/// order. Infinite scores are ordered like any other.
///
/// ```swift
/// let auc = try ROCAUC.of(labels: clicked, scores: predictedCTR)
/// ```
public enum ROCAUC {
    /// ROC AUC of `scores` against binary `labels` (true = positive).
    ///
    /// - Returns: a value in [0, 1]; 0.5 when every score is tied.
    /// - Throws: `SearchError.Code.invalidArgument` when the arrays differ
    ///   in length or are empty, a score is NaN, or only one class is
    ///   present: ROC AUC is then undefined (scikit-learn returns NaN with a
    ///   warning; a NaN would poison every mean it enters, so this throws).
    /// - Complexity: O(n log n).
    public static func of(labels: [Bool], scores: [Double]) throws(SearchError) -> Double {
        try BinaryScores.check(labels: labels, scores: scores, "ROC AUC")
        let positives = labels.reduce(0) { $0 + ($1 ? 1 : 0) }
        let negatives = labels.count - positives
        guard positives > 0, negatives > 0 else {
            throw SearchError(
                .invalidArgument,
                "ROC AUC is undefined with only one class: \(positives) positive and \(negatives) negative labels")
        }
        // Ranks are 1-based over ascending scores; a tie group covering ranks
        // a…b gives each member the rank (a + b) / 2. Sums of half-integers
        // are exact in Double far beyond any realistic n.
        var rankSumOfPositives = 0.0
        var below = 0
        BinaryScores.forEachTieGroup(labels: labels, scores: scores, descending: false) { p, n in
            let size = p + n
            let averageRank = Double(2 * below + size + 1) / 2
            rankSumOfPositives += Double(p) * averageRank
            below += size
        }
        let p = Double(positives)
        let u = rankSumOfPositives - p * (p + 1) / 2
        return u / (p * Double(negatives))
    }
}
