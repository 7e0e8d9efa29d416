import SearchCore

/// The area under the precision–recall curve, as *average precision* in
/// scikit-learn's definition (`average_precision_score`):
///
///     AP = Σₙ (Rₙ − Rₙ₋₁) · Pₙ
///
/// over the distinct score thresholds n, from the highest down, where Pₙ and
/// Rₙ are the precision and recall of predicting "positive" for every score
/// at or above the n-th threshold. Tied scores share one threshold, so the
/// value does not depend on input order. There is no interpolation, and no
/// trapezoid: the trapezoidal area under the same points (scikit-learn's
/// `auc(recall, precision)`) is optimistic and is not what this computes.
///
/// This is the classifier form over scores and labels. The retrieval form,
/// which divides by every relevant item of a query including those never
/// retrieved, is ``AveragePrecision`` (trec_eval's `map`).
public enum PRAUC {
    /// Average precision of `scores` against binary `labels` (true = positive).
    ///
    /// - Returns: a value in [0, 1]; the share of positives when every score
    ///   is tied; 0 when there is no positive label, as scikit-learn returns
    ///   (with a warning there).
    /// - Throws: `SearchError.Code.invalidArgument` when the arrays differ
    ///   in length or are empty, or a score is NaN.
    /// - Complexity: O(n log n).
    public static func of(labels: [Bool], scores: [Double]) throws(SearchError) -> Double {
        try BinaryScores.check(labels: labels, scores: scores, "average precision")
        let positives = labels.reduce(0) { $0 + ($1 ? 1 : 0) }
        guard positives > 0 else { return 0 }
        var truePositives = 0
        var predicted = 0
        var sum = 0.0
        BinaryScores.forEachTieGroup(labels: labels, scores: scores, descending: true) { p, n in
            truePositives += p
            predicted += p + n
            if p > 0 {
                let recallStep = Double(p) / Double(positives)
                sum += recallStep * (Double(truePositives) / Double(predicted))
            }
        }
        return sum
    }
}
