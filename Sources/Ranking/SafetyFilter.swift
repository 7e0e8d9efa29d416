import SearchCore

/// Removes or demotes results whose pictures look like unsafe concepts,
/// judged by an ``SearchCore/EmbeddingClassifier`` (zero-shot prompts in an
/// image–text space, or a host's own classifier) over the items' embeddings.
///
/// The classifier's labels are the unsafe concepts and, for a softmax model
/// (CLIP), safe ones for them to compete with ("a photo of food", "a
/// landscape"…): a softmax always gives its labels a total of 1, so without
/// safe labels every picture would look unsafe. A candidate's unsafe score is
///
/// - with exclusive scores (``SearchCore/ZeroShotScoring/softmax(scale:)``):
///   the sum of the unsafe labels' probabilities — the chance it is one of
///   them rather than a safe label;
/// - with independent scores (``SearchCore/ZeroShotScoring/sigmoid(scale:bias:)``):
///   the largest unsafe label's probability.
///
/// At or above ``threshold`` the candidate is flagged: removed, or moved
/// after every unflagged candidate (``Action/demote``), and its unsafe score
/// is recorded in its explanation under `"unsafe"`. A candidate without an
/// embedding in ``items`` is kept as it is.
///
/// Zero-shot safety is only as good as the model and the prompts: it misses
/// what the model cannot see and flags what merely resembles a concept.
/// Check the threshold on a labelled sample of your own pictures; this stage
/// is a filter to combine with others, not a guarantee.
///
/// ```swift
/// let concepts = try ZeroShotClassifier(
///     labels: ["graphic violence", "a weapon", "a landscape", "food", "a person", "an animal"],
///     textEncoder: clipText, scoring: .openAICLIP)
/// let safety = try SafetyFilter(
///     classifier: concepts, unsafeLabels: ["graphic violence", "a weapon"], threshold: 0.5, items: pictures)
/// let pipeline = RerankPipeline([safety, TruncateStage(10)])
/// ```
///
/// - Complexity: O(candidates · labels · dimension) per request.
public struct SafetyFilter<Classifier: EmbeddingClassifier>: Reranker {
    /// What happens to a flagged candidate.
    public enum Action: Sendable, Hashable {
        /// Dropped from the results.
        case remove
        /// Kept, after every unflagged candidate (flagged ones keep their order among themselves).
        case demote
    }

    /// Scores item embeddings against the labels.
    public let classifier: Classifier
    /// The labels that count as unsafe.
    public let unsafeLabels: Set<String>
    /// Unsafe score at or above which a candidate is flagged, in (0, 1].
    public let threshold: Float
    /// What happens to a flagged candidate.
    public let action: Action
    /// The items' embeddings, in the classifier's space (picture embeddings for an image–text model).
    public let items: EmbeddingTable
    private let unsafeIndices: [Int]

    /// A stage.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/invalidArgument`` when an
    ///   unsafe label is not one of the classifier's, none is given, a softmax
    ///   classifier has no safe label left, or `threshold` is outside (0, 1];
    ///   ``SearchCore/SearchError/Code/dimensionMismatch`` when `items` are
    ///   not of the classifier's dimension.
    public init(
        classifier: Classifier, unsafeLabels: Set<String>, threshold: Float, action: Action = .remove, items: EmbeddingTable
    ) throws(SearchError) {
        let unknown = unsafeLabels.subtracting(classifier.labels)
        guard unknown.isEmpty else {
            throw SearchError(.invalidArgument, "unsafe labels \(unknown.sorted()) are not among the classifier's labels \(classifier.labels)")
        }
        guard !unsafeLabels.isEmpty else { throw SearchError(.invalidArgument, "a safety filter needs at least one unsafe label") }
        if classifier.scoring.labelsAreExclusive && unsafeLabels.count == classifier.labels.count {
            throw SearchError(
                .invalidArgument,
                "with softmax scores every picture's labels sum to 1: add safe labels for the unsafe ones to compete with")
        }
        guard threshold > 0, threshold <= 1 else {
            throw SearchError(.invalidArgument, "the threshold is a probability in (0, 1], got \(threshold)")
        }
        try SearchError.checkDimension(items.dimension, expected: classifier.dimension, "the item embeddings")
        self.classifier = classifier
        self.unsafeLabels = unsafeLabels
        self.threshold = threshold
        self.action = action
        self.items = items
        unsafeIndices = classifier.labels.indices.filter { unsafeLabels.contains(classifier.labels[$0]) }
    }

    /// The unsafe score of `id`'s embedding (see the type's discussion), or nil when ``items`` has none.
    public func unsafeScore(of id: VectorID) throws(SearchError) -> Float? {
        guard let row = items.row(of: id) else { return nil }
        var scores = [Float](repeating: 0, count: classifier.labels.count)
        try items.values.withUnsafeBufferPointer { (v) throws(SearchError) in
            try scores.withUnsafeMutableBufferPointer { (s) throws(SearchError) in
                try classifier.scores(UnsafeBufferPointer(rebasing: v[(row * items.dimension)..<((row + 1) * items.dimension)]), into: s)
            }
        }
        if classifier.scoring.labelsAreExclusive {
            return unsafeIndices.reduce(0) { $0 + scores[$1] }
        }
        return unsafeIndices.map { scores[$0] }.max()
    }

    /// The candidates without (or with demoted) flagged ones, order otherwise kept.
    public func rerank(_ candidates: [RankedCandidate], context: RankingContext) throws(SearchError) -> [RankedCandidate] {
        var kept: [RankedCandidate] = []
        var flagged: [RankedCandidate] = []
        kept.reserveCapacity(candidates.count)
        for candidate in candidates {
            guard let score = try unsafeScore(of: candidate.id), score >= threshold else {
                kept.append(candidate)
                continue
            }
            var c = candidate
            c.explanation["unsafe"] = Double(score)
            flagged.append(c)
        }
        return action == .remove ? kept : kept + flagged
    }
}
