import SearchCore
import Tensor

/// NLLB-SigLIP's and NLLB-CLIP's text tower (Visheratin 2023; open_clip's
/// `nllb-clip-base-siglip`, `nllb-clip-large-siglip`): the encoder of
/// NLLB-200 (an M2M-100 encoder: token embeddings scaled by √width plus
/// fairseq's sinusoidal positions, pre-LN blocks with ReLU, a final layer
/// norm), the state of the first token — the language code — and a linear
/// map without bias into the image tower's space (open_clip's `HFTextEncoder`
/// with `cls_pooler` and `hf_proj_type` `linear`).
///
/// Texts are framed as NLLB's tokenizer frames a source sentence:
/// the language code (`eng_Latn`, `fra_Latn`, … — ``language``), the
/// SentencePiece ids in fairseq's order, `</s>` (2). The model pools the
/// language code's state, so the language is part of the query.
///
/// ```swift
/// let tokenizer = try SentencePieceTokenizer(tokenizerJSONAt: "nllb/tokenizer.json")
/// var text = try NLLBTextEncoder(
///     weights: SafetensorsFile(path: "open_clip_model.safetensors"), configuration: .distilled600M,
///     dimension: 768, tokenizer: tokenizer)
/// try text.setLanguage("fra_Latn")
/// let e = try text.embed("une photo d'un chat")    // unit length
/// ```
public struct NLLBTextEncoder: TextEncoder {
    /// The encoder's geometry.
    public let configuration: NLLBConfiguration
    /// NLLB's tokenizer (its `tokenizer.json`, with the language codes as added tokens); nil when only ids are embedded.
    public let tokenizer: SentencePieceTokenizer?
    /// The language code texts are framed with (``setLanguage(_:)``); `eng_Latn` by default, as NLLB's tokenizer.
    public private(set) var language: String?
    /// `[language code] … </s>`, truncated to the positions, unpadded.
    public var framing: TextFraming
    /// Whether embeddings are scaled to unit length (true: compared by cosine with the image tower's).
    public let normalizes: Bool
    /// How a large batch is cut into forward passes and spread over threads.
    public var batching = BatchPolicy()
    /// When set, OpenBLAS's process-wide thread count is set to this before each batch.
    public var threadCount: Int?

    let tokenEmbeddings: EmbeddingTable
    /// `(maximumPositions + 2) × width`, row `paddingID + 1 + t` for token `t`.
    let positions: [Float]
    let finalNormWeight, finalNormBias: Tensor<Float>
    /// `[dimension, width]`, applied as `W·x`.
    let projection: Tensor<Float>
    let stack: TransformerStack

    /// How the transformer blocks' projection weights are stored (see ``WeightPrecision``).
    public let precision: WeightPrecision
    /// The checkpoint's image–text scoring — for NLLB-SigLIP a sigmoid of
    /// `exp(logit_scale)` · cosine + `logit_bias` — when the weight file has
    /// both constants (read by ``SearchCore/ZeroShotScoring/init(weights:)``).
    public let scoring: ZeroShotScoring?

    /// The number of components of each embedding: the projection's output.
    public var dimension: Int { projection.shape[0] }

    /// Loads the text tower from an open_clip NLLB-SigLIP (or NLLB-CLIP) weight
    /// file: `text.transformer.{embed_tokens, layers.N.…, layer_norm}` and
    /// `text.proj.weight`, under `prefix`. The image tower (`visual.…`),
    /// `logit_scale` and `logit_bias` are skipped; anything else unexpected is an error.
    ///
    /// - Parameters:
    ///   - dimension: the shared embedding width (`embed_dim`: 768 base, 1152 large).
    ///   - tokenizer: NLLB's `tokenizer.json`; its language codes set ``language``.
    public init(
        weights: consuming SafetensorsFile, configuration: NLLBConfiguration, dimension: Int,
        tokenizer: SentencePieceTokenizer? = nil, normalizes: Bool = true, prefix: String = "text.",
        precision: WeightPrecision = .float32
    ) throws(SearchError) {
        let geometry = configuration.geometry
        try geometry.validate("NLLB configuration")
        guard dimension > 0 else { throw SearchError(.invalidArgument, "an embedding dimension must be positive, not \(dimension)") }
        let header = weights.header
        scoring = header["logit_scale"] != nil && header["logit_bias"] != nil ? try ZeroShotScoring(weights: weights) : nil
        var loader = WeightLoader(file: weights)
        let w = configuration.width
        tokenEmbeddings = EmbeddingTable(
            try loader.take(prefix + "transformer.embed_tokens.weight", shape: [configuration.vocabularySize, w]),
            precision: precision)
        stack = try TransformerStack(
            loading: &loader, keys: .m2m100(prefix + "transformer."), geometry: geometry, precision: precision)
        finalNormWeight = try loader.take(prefix + "transformer.layer_norm.weight", shape: [w])
        finalNormBias = try loader.take(prefix + "transformer.layer_norm.bias", shape: [w])
        projection = try loader.take(prefix + "proj.weight", shape: [dimension, w])
        try loader.finish(
            ignoringPrefixes: ["visual."],
            ignoringKeys: ["logit_scale", "logit_bias", prefix + "transformer.embed_positions.weights"])
        positions = configuration.sinusoidalPositions()
        self.configuration = configuration
        self.tokenizer = tokenizer
        self.normalizes = normalizes
        self.precision = precision
        framing = TextFraming(
            leadingIDs: [], trailingIDs: [2], paddingID: configuration.paddingID, length: configuration.maximumTokens,
            padsToLength: false)
        if tokenizer?.pieceID("eng_Latn") != nil { try setLanguage("eng_Latn") }
    }

    /// Frames texts with `code`'s token (NLLB-200's codes: `eng_Latn`,
    /// `fra_Latn`, `zho_Hans`, …), as NLLB's tokenizer does with `src_lang`.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/invalidArgument`` when the
    ///   tokenizer has no such token (or there is no tokenizer);
    ///   ``SearchCore/SearchError/Code/corruptData`` when the code's id lies
    ///   outside the model's embedding table (a tokenizer of another model).
    public mutating func setLanguage(_ code: String) throws(SearchError) {
        guard let id = tokenizer?.pieceID(code) else {
            throw SearchError(.invalidArgument, "the NLLB tokenizer has no language code \(code) (codes look like eng_Latn)")
        }
        guard Int(id) < configuration.vocabularySize else {
            throw SearchError(
                .corruptData,
                "the tokenizer gives \(code) the id \(id), outside the model's \(configuration.vocabularySize) token embeddings: the tokenizer is not this model's")
        }
        language = code
        framing.leadingIDs = [id]
    }

    /// Embeds `texts` into `output`, `texts.count × dimension` floats, each framed by ``framing``.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/invalidArgument`` without a
    ///   tokenizer or a language; as ``embed(tokenIDs:into:)``.
    public func embed(texts: [String], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        guard let tokenizer, language != nil else {
            throw SearchError(
                .invalidArgument, "this NLLB text encoder has no tokenizer with language codes; embed token ids instead")
        }
        try embed(tokenIDs: texts.map { framing.frame(tokenizer.encode(framing.prepare($0))) }, into: output)
    }

    /// Embeds token sequences (each `[language code] … </s>`, unpadded).
    ///
    /// - Throws: ``SearchCore/SearchError/Code/invalidArgument`` for an empty
    ///   sequence, one longer than the positions, an id outside the vocabulary
    ///   or the padding id; ``SearchCore/SearchError/Code/dimensionMismatch``
    ///   for a wrongly sized `output`.
    public func embed(tokenIDs: [[Int32]], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        try SearchError.checkDimension(output.count, expected: tokenIDs.count * dimension, "the output buffer")
        try batching.run(count: tokenIDs.count, dimension: dimension, output: output) { (pass, out) throws(SearchError) in
            try self.forward(Array(tokenIDs[pass]), into: out)
        }
    }

    private func forward(_ tokenIDs: [[Int32]], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        var sequences: [Range<Int>] = []
        var tokens = 0
        for ids in tokenIDs {
            try TokenSequence.check(
                ids, maximumTokens: configuration.maximumTokens, vocabularySize: configuration.vocabularySize,
                excluding: configuration.paddingID)
            sequences.append(tokens..<(tokens + ids.count))
            tokens += ids.count
        }
        guard tokens > 0 else { return }
        if let threadCount { BLAS.threadCount = threadCount }
        // Embeddings × √width (scale_embedding), positions from row paddingID + 1; the language code's
        // state (position 0) is pooled, and the projection has no bias.
        let pass = TextTowerPass(
            width: configuration.width, positionOffset: Int(configuration.paddingID) + 1,
            scale: configuration.scalesEmbeddings ? Float(configuration.width).squareRoot() : 1, epsilon: 1e-5)
        positions.withUnsafeBufferPointer { positions in
            pass(
                tokenIDs, sequences: sequences, pooled: sequences.map(\.lowerBound), tokenEmbeddings: tokenEmbeddings,
                positions: positions, stack: stack, finalNorm: (finalNormWeight, finalNormBias), projection: projection,
                bias: nil, normalizes: normalizes, into: output)
        }
    }
}
