import Foundation

/// How an image–text model turns the cosine between a picture and a label
/// into the label's score: the rule and the constants come from the model.
///
/// - CLIP (Radford et al. 2021) was trained with a softmax over the batch:
///   its zero-shot recipe scores labels with a softmax over
///   `scale · cos(picture, label)`, so a picture's label scores sum to 1 and
///   compete. `scale` is `exp(logit_scale)` from the checkpoint (100 for
///   OpenAI's released models, where training clamped it).
/// - SigLIP (Zhai et al. 2023) was trained with a pairwise sigmoid loss: each
///   label is scored on its own as `σ(scale · cos + bias)`, with
///   `scale = exp(logit_scale)` and `bias = logit_bias` from the checkpoint,
///   so several labels can be likely at once, or none.
///
/// ```swift
/// let clip = ZeroShotScoring.softmax(scale: 100)
/// let siglip = ZeroShotScoring.sigmoid(scale: 117.3, bias: -12.9)
/// ```
public enum ZeroShotScoring: Sendable, Hashable {
    /// Softmax over the labels of `scale · cosine` (CLIP).
    case softmax(scale: Float)
    /// `1 / (1 + exp(−(scale · cosine + bias)))` for each label alone (SigLIP).
    case sigmoid(scale: Float, bias: Float)

    /// OpenAI CLIP's released models: a softmax at scale 100.
    public static let openAICLIP = ZeroShotScoring.softmax(scale: 100)

    /// Whether the labels share one probability (softmax: scores sum to 1)
    /// rather than being scored each on its own (sigmoid).
    public var labelsAreExclusive: Bool {
        if case .softmax = self { return true }
        return false
    }

    /// Throws ``SearchError/Code/invalidArgument`` unless the constants are finite and the scale positive.
    public func validate() throws(SearchError) {
        switch self {
        case .softmax(let scale):
            guard scale.isFinite, scale > 0 else {
                throw SearchError(.invalidArgument, "a softmax scale must be finite and positive, got \(scale)")
            }
        case .sigmoid(let scale, let bias):
            guard scale.isFinite, scale > 0, bias.isFinite else {
                throw SearchError(.invalidArgument, "a sigmoid needs a finite positive scale and a finite bias, got \(scale) and \(bias)")
            }
        }
    }

    /// The logit of one cosine: `scale · cosine`, plus `bias` for a sigmoid.
    public func logit(cosine: Float) -> Float {
        switch self {
        case .softmax(let scale): scale * cosine
        case .sigmoid(let scale, let bias): scale * cosine + bias
        }
    }

    /// The scores of `cosines` (one per label), as ``apply(toCosines:)`` gives them.
    public func scores(cosines: [Float]) -> [Float] {
        var values = cosines
        values.withUnsafeMutableBufferPointer { apply(toCosines: $0) }
        return values
    }

    /// Replaces the cosines in `values` (one per label) by the labels' scores.
    /// The softmax subtracts the largest logit first, so it never overflows.
    public func apply(toCosines values: UnsafeMutableBufferPointer<Float>) {
        switch self {
        case .softmax(let scale):
            guard !values.isEmpty else { return }
            var largest = -Double.infinity
            for v in values { largest = max(largest, Double(scale) * Double(v)) }
            var total = 0.0
            for i in values.indices {
                let e = exp(Double(scale) * Double(values[i]) - largest)
                values[i] = Float(e)
                total += e
            }
            for i in values.indices { values[i] = Float(Double(values[i]) / total) }
        case .sigmoid(let scale, let bias):
            for i in values.indices {
                values[i] = Float(1 / (1 + exp(-(Double(scale) * Double(values[i]) + Double(bias)))))
            }
        }
    }
}

/// A label and its score for one embedding.
public struct LabelScore: Sendable, Hashable {
    /// The label's name.
    public var label: String
    /// Its score: a probability (see ``ZeroShotScoring``).
    public var score: Float

    /// A label with its score.
    public init(label: String, score: Float) {
        self.label = label
        self.score = score
    }
}

/// Scores an embedding against a fixed list of labels: zero-shot
/// classification in an image–text space (the `Encoders` product's
/// `ZeroShotClassifier`), or any classifier a host trains over embeddings.
/// The seam between whoever builds the labels and the stages that use them
/// (tagging at ingest, a safety filter in ranking).
///
/// Conforming types are `Sendable` and safe to call from concurrent tasks.
public protocol EmbeddingClassifier: Sendable {
    /// The labels, in score order.
    var labels: [String] { get }
    /// The length of the embeddings it scores.
    var dimension: Int { get }
    /// How similarities become scores, which says whether the labels' scores
    /// share one probability (``ZeroShotScoring/labelsAreExclusive``).
    var scoring: ZeroShotScoring { get }

    /// Writes one score per label (``labels`` order) for `embedding` into `output`.
    ///
    /// - Throws: ``SearchError/Code/dimensionMismatch`` for an embedding not
    ///   of ``dimension`` or an `output` not of `labels.count`;
    ///   ``SearchError/Code/invalidVector`` for a zero or non-finite embedding.
    func scores(_ embedding: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) throws(SearchError)
}

extension EmbeddingClassifier {
    /// One score per label, in ``labels`` order.
    public func scores(_ embedding: [Float]) throws(SearchError) -> [Float] {
        var out = [Float](repeating: 0, count: labels.count)
        try embedding.withUnsafeBufferPointer { (e) throws(SearchError) in
            try out.withUnsafeMutableBufferPointer { (o) throws(SearchError) in try scores(e, into: o) }
        }
        return out
    }

    /// The labels scoring at least `threshold`, best first, at most `maximumCount` of them
    /// (ties keep ``labels`` order).
    ///
    /// - Throws: as ``scores(_:into:)``; ``SearchError/Code/invalidArgument`` for a negative `maximumCount`.
    public func classify(_ embedding: [Float], maximumCount: Int = 5, threshold: Float = 0) throws(SearchError) -> [LabelScore] {
        guard maximumCount >= 0 else { throw SearchError(.invalidArgument, "maximumCount \(maximumCount) is negative") }
        let s = try scores(embedding)
        let order = s.indices.sorted { s[$0] > s[$1] || (s[$0] == s[$1] && $0 < $1) }
        return order.prefix(maximumCount).filter { s[$0] >= threshold }.map { LabelScore(label: labels[$0], score: s[$0]) }
    }
}
