import SearchCore

/// A tagging step at ingest: each item's picture embedding is classified
/// (zero-shot labels from `Encoders`' `ZeroShotClassifier`, or any
/// ``SearchCore/EmbeddingClassifier`` in the image encoder's space) and the
/// best labels are written into the item before it is stored — into
/// ``CatalogItem/tags`` or one ``CatalogItem/metadata`` field — so they are
/// kept with the item and returned with every result.
///
/// Only items with a picture are tagged; an item's own tags are kept and a
/// label already among them is not repeated. The labels written, with their
/// scores, are also listed in ``IngestReport/labels``. How good the tags are
/// depends on the model and the prompts, not on this step: check them on a
/// sample before relying on them.
///
/// ```swift
/// let styles = try ZeroShotClassifier(
///     labels: ["minimalist", "rustic", "industrial"], textEncoder: clipText, scoring: .openAICLIP)
/// var configuration = SearchEngine.Configuration(
///     textEncoder: minilm, imageEncoder: clipImages, crossModalTextEncoder: clipText)
/// configuration.tagging = [ZeroShotTagging(classifier: styles, maximumCount: 1, threshold: 0.5, destination: .metadata("style"))]
/// ```
public struct ZeroShotTagging: Sendable {
    /// Where the labels go.
    public enum Destination: Sendable, Hashable {
        /// Appended to ``CatalogItem/tags``.
        case tags
        /// Written, joined by ", ", into this ``CatalogItem/metadata`` field
        /// (replacing what was there; the field is left alone when no label qualifies).
        case metadata(String)
    }

    /// Scores picture embeddings against the labels.
    public var classifier: any EmbeddingClassifier
    /// At most this many labels per item, best first.
    public var maximumCount: Int
    /// Only labels scoring at least this (a probability; see ``SearchCore/ZeroShotScoring``).
    public var threshold: Float
    /// Where the labels go.
    public var destination: Destination

    /// A tagging step: up to `maximumCount` labels scoring at least `threshold`, written to `destination`.
    public init(classifier: any EmbeddingClassifier, maximumCount: Int = 3, threshold: Float = 0.5, destination: Destination = .tags) {
        self.classifier = classifier
        self.maximumCount = maximumCount
        self.threshold = threshold
        self.destination = destination
    }

    /// Throws ``SearchCore/SearchError`` unless the step fits an image encoder of `dimension`.
    func validate(imageDimension: Int?) throws(SearchError) {
        guard let imageDimension else {
            throw SearchError(.invalidArgument, "zero-shot tagging classifies picture embeddings: it needs an image encoder")
        }
        try SearchError.checkDimension(classifier.dimension, expected: imageDimension, "a tagging classifier's label embeddings")
        guard maximumCount > 0, threshold.isFinite, threshold >= 0, threshold <= 1 else {
            throw SearchError(
                .invalidArgument, "tagging takes a positive label count and a threshold in [0, 1], got \(maximumCount) and \(threshold)")
        }
        if case .metadata(let key) = destination, key.isEmpty {
            throw SearchError(.invalidArgument, "a tagging step's metadata field name is empty")
        }
    }

    /// Classifies `embedding` and writes the qualifying labels into `item`; returns them.
    func tag(_ item: inout CatalogItem, embedding: [Float]) throws(SearchError) -> [LabelScore] {
        let labels = try classifier.classify(embedding, maximumCount: maximumCount, threshold: threshold)
        guard !labels.isEmpty else { return [] }
        switch destination {
        case .tags:
            for l in labels where !item.tags.contains(l.label) { item.tags.append(l.label) }
        case .metadata(let key):
            item.metadata[key] = labels.map(\.label).joined(separator: ", ")
        }
        return labels
    }
}
