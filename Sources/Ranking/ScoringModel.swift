import SearchCore

/// A model that scores rows of features, larger is better.
///
/// ``GradientBoostedTrees`` (single-output models) and ``LogisticRegression``
/// conform; ``LearnedRanker`` is generic over it, so the call is specialised.
public protocol ScoringModel: Sendable {
    /// Features per row.
    var featureCount: Int { get }
    /// One score per row of `rows` (laid end to end) into `output`.
    func scores(_ rows: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>) throws(SearchError)
}

extension GradientBoostedTrees: ScoringModel {
    /// Raw scores (monotone in the transformed ones for single-output
    /// objectives, so the order is the same and the transform is skipped).
    ///
    /// - Throws: ``SearchError/Code/invalidArgument`` for a multiclass model.
    public func scores(_ rows: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>)
        throws(SearchError)
    {
        guard outputCount == 1 else {
            throw SearchError(.invalidArgument, "a \(outputCount)-class model does not give one ranking score per row")
        }
        try rawScores(rows, into: output)
    }
}

extension LogisticRegression: ScoringModel {
    /// The logits (monotone in the probabilities).
    public func scores(_ rows: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>)
        throws(SearchError)
    {
        try logits(rows, into: output)
    }
}
