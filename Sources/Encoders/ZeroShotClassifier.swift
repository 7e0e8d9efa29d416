import Foundation
import SearchCore
import Tensor

/// Zero-shot classification in an image–text space (Radford et al. 2021,
/// §3.1.4): each label is written into prompt templates, the prompts are
/// embedded once by the text tower, their unit vectors averaged and scaled
/// back to unit length (CLIP's prompt ensembling); a picture's embedding is
/// then scored against every label by its cosine, through the model's
/// ``SearchCore/ZeroShotScoring`` — a softmax for CLIP, a sigmoid with a
/// bias for SigLIP.
///
/// The mechanics are exact; what the scores mean is not this type's to
/// promise. How well labels are told apart depends entirely on the model
/// (its training data, size and language), on the wording of labels and
/// templates, and on the pictures: measure on your own labelled sample
/// before trusting a threshold, and expect a tiny or generic model to do
/// little better than chance on fine distinctions.
///
/// ```swift
/// let text = try CLIPTextEncoder(directory: "clip-vit-base-patch32")
/// let images = try CLIPImageEncoder(directory: "clip-vit-base-patch32")
/// let classifier = try ZeroShotClassifier(
///     labels: ["cat", "dog", "bicycle"], templates: ["a photo of a {}.", "a blurry photo of a {}."],
///     textEncoder: text, scoring: try ZeroShotScoring(weights: SafetensorsFile(path: "clip-vit-base-patch32/model.safetensors")))
/// let best = try classifier.classify(images.embed(.encoded(jpegBytes)).values, maximumCount: 1)
/// ```
///
/// Immutable and `Sendable`: share one classifier between tasks.
public struct ZeroShotClassifier: EmbeddingClassifier {
    /// A label and the prompts that describe it.
    public struct Label: Sendable, Hashable {
        /// The label's name (what classification returns).
        public var name: String
        /// Texts that describe it, embedded and averaged (at least one).
        public var prompts: [String]

        /// A label described by `prompts`.
        public init(name: String, prompts: [String]) {
            self.name = name
            self.prompts = prompts
        }
    }

    /// The one template used when none is given: the plain prompt of the CLIP paper's baseline.
    public static let defaultTemplates = ["a photo of a {}."]

    /// The labels' names, in score order.
    public let labels: [String]
    /// How cosines become scores.
    public let scoring: ZeroShotScoring
    /// The length of the embeddings scored: the text tower's.
    public let dimension: Int
    /// `labels.count × dimension` floats: each label's unit-length, prompt-averaged text embedding.
    public let labelEmbeddings: [Float]

    /// Builds labels by writing each name into `templates` (every `{}` is
    /// replaced by the name) and embeds them with `textEncoder`, all prompts
    /// in one call.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/invalidArgument`` for no
    ///   labels, a repeated or empty label, no templates or a template
    ///   without `{}`, or a bad `scoring`; what `textEncoder` throws;
    ///   ``SearchCore/SearchError/Code/invalidVector`` when a prompt embeds to
    ///   a zero or non-finite vector.
    public init(
        labels: [String], templates: [String] = ZeroShotClassifier.defaultTemplates, textEncoder: some TextEncoder,
        scoring: ZeroShotScoring
    ) throws(SearchError) {
        guard !templates.isEmpty, templates.allSatisfy({ $0.contains("{}") }) else {
            throw SearchError(.invalidArgument, "every prompt template needs a {} where the label goes; got \(templates)")
        }
        try self.init(
            labels: labels.map { name in Label(name: name, prompts: templates.map { $0.replacingOccurrences(of: "{}", with: name) }) },
            textEncoder: textEncoder, scoring: scoring)
    }

    /// Embeds each label's own prompts with `textEncoder` (all prompts in one call).
    ///
    /// - Throws: as ``init(labels:templates:textEncoder:scoring:)``; a label without prompts is invalid.
    public init(labels: [Label], textEncoder: some TextEncoder, scoring: ZeroShotScoring) throws(SearchError) {
        try Self.check(names: labels.map(\.name))
        guard labels.allSatisfy({ !$0.prompts.isEmpty }) else {
            throw SearchError(.invalidArgument, "every label needs at least one prompt")
        }
        let prompts = labels.flatMap(\.prompts)
        let d = textEncoder.dimension
        let vectors = try textEncoder.embed(texts: prompts)
        var means = [Float](repeating: 0, count: labels.count * d)
        var row = 0
        for (l, label) in labels.enumerated() {
            var sum = [Double](repeating: 0, count: d)
            for prompt in label.prompts {
                let v = vectors[(row * d)..<((row + 1) * d)]
                let norm = v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
                guard norm > 0, norm.isFinite else {
                    throw SearchError(.invalidVector, "the prompt \"\(prompt)\" embeds to a zero or non-finite vector")
                }
                for (j, x) in v.enumerated() { sum[j] += Double(x) / norm }
                row += 1
            }
            let norm = sum.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 0 else {
                throw SearchError(.invalidVector, "the prompts of label \"\(label.name)\" cancel out to a zero vector")
            }
            for j in 0..<d { means[l * d + j] = Float(sum[j] / norm) }
        }
        try self.init(labels: labels.map(\.name), embeddings: means, scoring: scoring)
    }

    /// A classifier over label embeddings computed elsewhere (`labels.count ×
    /// dimension` floats, row by row; each row is scaled to unit length).
    ///
    /// - Throws: ``SearchCore/SearchError/Code/invalidArgument`` for no, repeated or empty labels, or a bad `scoring`;
    ///   ``SearchCore/SearchError/Code/dimensionMismatch`` when `embeddings` does not divide into the labels;
    ///   ``SearchCore/SearchError/Code/invalidVector`` for a zero or non-finite row.
    public init(labels: [String], embeddings: [Float], scoring: ZeroShotScoring) throws(SearchError) {
        try Self.check(names: labels)
        try scoring.validate()
        guard embeddings.count % labels.count == 0, embeddings.count > 0 else {
            throw SearchError(.dimensionMismatch, "\(embeddings.count) floats do not divide into \(labels.count) label embeddings")
        }
        let d = embeddings.count / labels.count
        var rows = embeddings
        try rows.withUnsafeMutableBufferPointer { (r) throws(SearchError) in
            for l in 0..<labels.count {
                let norm = VectorMath.l2Normalize(UnsafeMutableBufferPointer(rebasing: r[(l * d)..<((l + 1) * d)]))
                guard norm > 0, norm.isFinite else {
                    throw SearchError(.invalidVector, "the embedding of label \"\(labels[l])\" is zero or not finite")
                }
            }
        }
        self.labels = labels
        self.dimension = d
        self.scoring = scoring
        self.labelEmbeddings = rows
    }

    private static func check(names: [String]) throws(SearchError) {
        guard !names.isEmpty else { throw SearchError(.invalidArgument, "a classifier needs at least one label") }
        guard names.allSatisfy({ !$0.isEmpty }) else { throw SearchError(.invalidArgument, "a label name is empty") }
        var seen = Set<String>()
        for name in names where !seen.insert(name).inserted {
            throw SearchError(.invalidArgument, "the label \"\(name)\" appears twice")
        }
    }

    /// Writes one score per label for `embedding` (any length-scaled vector of
    /// ``dimension``: it is compared by cosine) into `output`.
    ///
    /// - Complexity: O(labels · dimension).
    public func scores(_ embedding: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        try SearchError.checkDimension(embedding.count, expected: dimension, "the embedding to classify")
        try SearchError.checkDimension(output.count, expected: labels.count, "the label scores")
        let kernels = Kernels.active
        let norm = kernels.dot(embedding.baseAddress!, embedding.baseAddress!, count: dimension).squareRoot()
        guard norm > 0, norm.isFinite else {
            throw SearchError(.invalidVector, "an embedding to classify is zero or not finite")
        }
        labelEmbeddings.withUnsafeBufferPointer { rows in
            for l in labels.indices {
                output[l] = kernels.dot(embedding.baseAddress!, rows.baseAddress! + l * dimension, count: dimension) / norm
            }
        }
        scoring.apply(toCosines: output)
    }

    /// Embeds `images` with `encoder` (one call, batched as the encoder does)
    /// and classifies each: for each picture, the labels scoring at least
    /// `threshold`, best first, at most `maximumCount`.
    ///
    /// - Throws: what the encoder throws; ``SearchCore/SearchError/Code/dimensionMismatch``
    ///   when the encoder's space is not the text tower's.
    public func classify(
        images: [ImageInput], encoder: some ImageEncoder, maximumCount: Int = 5, threshold: Float = 0
    ) throws(SearchError) -> [[LabelScore]] {
        try SearchError.checkDimension(encoder.dimension, expected: dimension, "the image encoder's embedding")
        var vectors = [Float](repeating: 0, count: images.count * dimension)
        try vectors.withUnsafeMutableBufferPointer { (v) throws(SearchError) in try encoder.embed(images: images, into: v) }
        var out: [[LabelScore]] = []
        for i in images.indices {
            out.append(try classify(Array(vectors[(i * dimension)..<((i + 1) * dimension)]), maximumCount: maximumCount, threshold: threshold))
        }
        return out
    }
}

extension ZeroShotScoring {
    /// The scoring a checkpoint was trained with, read from its weights:
    /// `logit_scale` (stored as its logarithm, as CLIP and SigLIP store it)
    /// and, where present, `logit_bias` — a sigmoid (SigLIP) when the file
    /// has a bias, a softmax (CLIP) when it has none. Hugging Face, OpenAI
    /// and open_clip files all keep both at the top level.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/notFound`` when the file has no
    ///   `logit_scale` (a text- or vision-only export: give the scoring
    ///   explicitly); ``SearchCore/SearchError/Code/corruptData`` for a
    ///   tensor of more than one element or a non-finite value.
    public init(weights: borrowing SafetensorsFile) throws(SearchError) {
        func scalar(_ name: String) throws(SearchError) -> Float? {
            guard weights.header[name] != nil else { return nil }
            let t = try weights.floats(name)
            guard t.count == 1 else {
                throw SearchError(.corruptData, "\(weights.path): \(name) holds \(t.count) values; it should be one")
            }
            let value = t.scalars[0]
            guard value.isFinite else { throw SearchError(.corruptData, "\(weights.path): \(name) is \(value)") }
            return value
        }
        guard let logScale = try scalar("logit_scale") else {
            throw SearchError(
                .notFound, "\(weights.path) has no logit_scale; give the scoring explicitly (CLIP: .softmax(scale: 100))")
        }
        let scale = Float(exp(Double(logScale)))
        if let bias = try scalar("logit_bias") {
            self = .sigmoid(scale: scale, bias: bias)
        } else {
            self = .softmax(scale: scale)
        }
        try validate()
    }
}

