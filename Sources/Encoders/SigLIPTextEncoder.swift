import Foundation
import SearchCore
import Tensor

/// SigLIP's text tower (Zhai et al. 2023), and SigLIP 2's: token and
/// position embeddings, a bidirectional pre-LN transformer over the whole
/// padded sequence, a final layer norm, the state at the last position, a
/// linear head with bias.
///
/// The model was trained on text padded to ``SigLIPTextConfiguration/contextLength``
/// (64) and pools at the last position, so padding is part of the input:
/// ``embed(texts:into:)`` frames each text with ``framing`` (end id, padding).
/// ``embed(tokenIDs:into:)`` takes sequences exactly as the model reads them.
///
/// ```swift
/// let configuration = try SigLIPConfiguration(huggingFaceConfigPath: "config.json")
/// let text = try SigLIPTextEncoder(
///     weights: SafetensorsFile(path: "model.safetensors"), configuration: configuration.text,
///     tokenizer: sentencePiece, framing: .sigLIP(configuration.text))
/// let e = try text.embed("a photo of a cat")    // unit length
/// ```
public struct SigLIPTextEncoder: TextEncoder {
    /// The tower's geometry.
    public let configuration: SigLIPTextConfiguration
    /// The tokenizer ``embed(texts:into:)`` runs; nil when only token ids are embedded.
    public let tokenizer: (any SubwordTokenizer)?
    /// How a text and its ids become the model's sequence.
    public var framing: TextFraming
    /// The naming the weights were read under.
    public let naming: CLIPNaming
    /// Whether embeddings are scaled to unit length (true: SigLIP compares by cosine).
    public let normalizes: Bool
    /// The sigmoid scores' scale and bias (``SearchCore/ZeroShotScoring/sigmoid(scale:bias:)``,
    /// `exp(logit_scale)` and `logit_bias`), when the weight file holds them; what
    /// ``ZeroShotClassifier`` takes.
    public let scoring: ZeroShotScoring?
    /// How a large batch is cut into forward passes and spread over threads.
    public var batching = BatchPolicy()
    /// When set, OpenBLAS's process-wide thread count is set to this before each batch.
    public var threadCount: Int?

    let tokenEmbeddings: EmbeddingTable
    let positionEmbeddings: Tensor<Float>
    let finalNormWeight, finalNormBias: Tensor<Float>
    /// `[embeddingDimension, width]`, applied as `W·x + b`.
    let head: Tensor<Float>
    let headBias: Tensor<Float>
    let stack: TransformerStack

    /// How the transformer blocks' projection weights are stored (see ``WeightPrecision``).
    public let precision: WeightPrecision

    /// The number of components of each embedding: the head's output.
    public var dimension: Int { configuration.embeddingDimension }

    /// Loads the text tower from a whole-SigLIP (or text-only) weight file in
    /// Hugging Face `SiglipModel` naming (`text_model.…`) or open_clip's
    /// (`text.…`), detected when `naming` is nil. The image tower's tensors
    /// are skipped; `logit_scale` and `logit_bias` become ``scoring``
    /// (read by ``SearchCore/ZeroShotScoring/init(weights:)``).
    ///
    /// - Parameters:
    ///   - tokenizer: the subword model (nil: only ``embed(tokenIDs:into:)`` works).
    ///   - framing: start, end and padding ids and text normalisation; by
    ///     default ``TextFraming/sigLIP(_:)``'s.
    public init(
        weights: consuming SafetensorsFile, configuration: SigLIPTextConfiguration,
        tokenizer: (any SubwordTokenizer)? = nil, framing: TextFraming? = nil, naming: CLIPNaming? = nil,
        normalizes: Bool = true, precision: WeightPrecision = .float32
    ) throws(SearchError) {
        try configuration.geometry.validate("SigLIP text configuration")
        let header = weights.header
        // One reader of the scoring constants for SigLIP and zero-shot classification alike.
        let scoring = header["logit_scale"] != nil && header["logit_bias"] != nil
            ? try ZeroShotScoring(weights: weights) : nil
        let resolved: CLIPNaming
        if let naming {
            resolved = naming
        } else if header["text_model.embeddings.token_embedding.weight"] != nil {
            resolved = .huggingFace
        } else if header["text.token_embedding.weight"] != nil {
            resolved = .openAI
        } else {
            throw SearchError(
                .unsupportedFormat,
                "neither Hugging Face SiglipModel (text_model.embeddings.token_embedding.weight) nor open_clip (text.token_embedding.weight) text tensors found")
        }
        var loader = WeightLoader(file: weights)
        let w = configuration.width, e = configuration.embeddingDimension
        let names: (tokens: String, positions: String, norm: String, head: String, blocks: TransformerKeyMap, other: [String])
        switch resolved {
        case .huggingFace:
            names = (
                "text_model.embeddings.token_embedding.weight", "text_model.embeddings.position_embedding.weight",
                "text_model.final_layer_norm", "text_model.head", .huggingFaceCLIP("text_model."), ["vision_model."]
            )
        case .openAI:
            names = ("text.token_embedding.weight", "text.positional_embedding", "text.ln_final", "text.text_projection",
                     .openAI("text."), ["visual."])
        }
        tokenEmbeddings = EmbeddingTable(
            try loader.take(names.tokens, shape: [configuration.vocabularySize, w]), precision: precision)
        positionEmbeddings = try loader.take(names.positions, elementsOf: [configuration.contextLength, w])
        finalNormWeight = try loader.take(names.norm + ".weight", shape: [w])
        finalNormBias = try loader.take(names.norm + ".bias", shape: [w])
        head = try loader.take(names.head + ".weight", shape: [e, w])
        headBias = try loader.take(names.head + ".bias", shape: [e])
        stack = try TransformerStack(loading: &loader, keys: names.blocks, geometry: configuration.geometry, precision: precision)
        self.scoring = scoring
        try loader.finish(
            ignoringPrefixes: names.other,
            ignoringKeys: ["text_model.embeddings.position_ids", "text.attn_mask", "logit_scale", "logit_bias"])
        self.configuration = configuration
        self.tokenizer = tokenizer
        self.framing = framing ?? .sigLIP(configuration)
        self.naming = resolved
        self.normalizes = normalizes
        self.precision = precision
    }

    /// Embeds `texts` into `output`, `texts.count × dimension` floats, one after another:
    /// each text is prepared, tokenized and framed by ``framing``.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/invalidArgument`` when the
    ///   encoder has no ``tokenizer``; as ``embed(tokenIDs:into:)``.
    public func embed(texts: [String], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        guard let tokenizer else {
            throw SearchError(
                .invalidArgument, "this SigLIP text encoder was built without a tokenizer; embed token ids instead")
        }
        try embed(tokenIDs: texts.map { framing.frame(tokenizer.encode(framing.prepare($0))) }, into: output)
    }

    /// Embeds token sequences exactly as given (framed and padded: the state
    /// at each sequence's last position is pooled).
    ///
    /// - Throws: ``SearchCore/SearchError/Code/invalidArgument`` for an empty
    ///   sequence, one longer than the context, or an id outside the
    ///   vocabulary; ``SearchCore/SearchError/Code/dimensionMismatch`` for a
    ///   wrongly sized `output`.
    public func embed(tokenIDs: [[Int32]], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        try SearchError.checkDimension(output.count, expected: tokenIDs.count * dimension, "the output buffer")
        try batching.run(count: tokenIDs.count, dimension: dimension, output: output) { (pass, out) throws(SearchError) in
            try self.forward(Array(tokenIDs[pass]), into: out)
        }
    }

    /// One forward pass over `tokenIDs`.
    private func forward(_ tokenIDs: [[Int32]], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        var sequences: [Range<Int>] = []
        var tokens = 0
        for ids in tokenIDs {
            try TokenSequence.check(ids, maximumTokens: configuration.contextLength, vocabularySize: configuration.vocabularySize)
            sequences.append(tokens..<(tokens + ids.count))
            tokens += ids.count
        }
        guard tokens > 0 else { return }
        if let threadCount { BLAS.threadCount = threadCount }
        // The state at each sequence's last position is pooled; the stack computes only those in its last block.
        let pass = TextTowerPass(width: configuration.width, epsilon: configuration.layerNormEpsilon)
        positionEmbeddings.withUnsafeBufferPointer { positions in
            pass(
                tokenIDs, sequences: sequences, pooled: sequences.map { $0.upperBound - 1 }, tokenEmbeddings: tokenEmbeddings,
                positions: positions, stack: stack, finalNorm: (finalNormWeight, finalNormBias), projection: head,
                bias: headBias, normalizes: normalizes, into: output)
        }
    }
}

extension TextFraming {
    /// SigLIP's framing as Hugging Face's `SiglipTokenizer` does it: text
    /// lowercased and canonicalised, the end id `</s>` (1) appended, padded
    /// with it to the context length.
    public static func sigLIP(_ configuration: SigLIPTextConfiguration) -> TextFraming {
        TextFraming(
            trailingIDs: [1], paddingID: 1, length: configuration.contextLength, padsToLength: true, lowercases: true,
            canonicalizes: true)
    }
}
