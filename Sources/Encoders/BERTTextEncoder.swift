import SearchCore
import Tensor

/// A BERT-family sentence encoder (all-MiniLM-L6-v2, BGE, E5): WordPiece,
/// a post-LN transformer, pooling over the tokens, L2 normalisation.
///
/// Reads a sentence-transformers or Hugging Face model folder as published —
/// `config.json`, `vocab.txt`, `model.safetensors`, and when present
/// `tokenizer_config.json` (`do_lower_case`) and `sentence_bert_config.json`
/// (`max_seq_length`):
///
/// ```swift
/// let encoder = try BERTTextEncoder(directory: "all-MiniLM-L6-v2")
/// let e = try encoder.embed("a photo of a cat")          // 384 floats, unit length
/// var batch = [Float](repeating: 0, count: 32 * encoder.dimension)
/// try batch.withUnsafeMutableBufferPointer { try encoder.embed(texts: texts, into: $0) }
/// ```
///
/// The computation is BERT's (Devlin et al. 2019): word + position + type-0
/// embeddings, layer norm; per block, self-attention then residual and layer
/// norm, the GELU MLP then residual and layer norm; then the mean of the
/// last hidden states over the real tokens (sentence-transformers' pooling),
/// or the `[CLS]` state.
///
/// A value type whose weights are immutable and shared: `Sendable`, safe to
/// call from concurrent tasks.
public struct BERTTextEncoder: TextEncoder {
    /// How token states become one vector.
    public enum Pooling: Sendable {
        /// The mean over the tokens ( `[CLS]` and `[SEP]` included), as sentence-transformers.
        case mean
        /// The first token's state.
        case classToken
    }

    /// The model's geometry.
    public let configuration: BERTConfiguration
    /// The tokenizer ``embed(texts:into:)`` runs.
    public let tokenizer: WordPieceTokenizer
    /// How token states become the embedding.
    public let pooling: Pooling
    /// Whether embeddings are scaled to unit length (true for all-MiniLM-L6-v2).
    public let normalizes: Bool
    /// How a large batch is cut into forward passes and spread over threads
    /// (passes of at most 64 items, one at a time, by default).
    public var batching = BatchPolicy()
    /// When set, OpenBLAS's process-wide thread count is set to this before each batch.
    public var threadCount: Int?

    /// Embeddings and blocks.
    let body: BERTBody
    /// How the transformer blocks' projection weights are stored (see ``WeightPrecision``).
    public let precision: WeightPrecision
    /// Bytes held by the transformer blocks' projection weights in ``precision``.
    public var blockWeightByteCount: Int { body.stack.projectionByteCount }

    /// The number of components of each embedding: the hidden size.
    public var dimension: Int { configuration.hiddenSize }

    /// Loads a model folder (see the type's description for the files read).
    ///
    /// - Parameters:
    ///   - maximumLength: truncation in tokens; by default `max_seq_length`
    ///     from `sentence_bert_config.json`, else the model's positions.
    ///   - pooling: by default what `1_Pooling/config.json` asks for
    ///     (`pooling_mode_cls_token`: BGE; `pooling_mode_mean_tokens`:
    ///     MiniLM, E5), else the mean.
    ///   - precision: how the blocks' projections are kept (FP32 by default).
    public init(
        directory: String, maximumLength: Int? = nil, pooling: Pooling? = nil, normalizes: Bool = true,
        precision: WeightPrecision = .float32
    ) throws(SearchError)
    {
        var pooling = pooling
        if pooling == nil, let poolingConfig = try? readJSON(directory + "/1_Pooling/config.json") {
            if poolingConfig["pooling_mode_cls_token"]?.boolValue == true {
                pooling = .classToken
            } else if poolingConfig["pooling_mode_mean_tokens"]?.boolValue == true {
                pooling = .mean
            } else {
                throw SearchError(
                    .unsupportedFormat, "\(directory)/1_Pooling/config.json asks for a pooling other than mean or [CLS]")
            }
        }
        let configuration = try BERTConfiguration(huggingFaceConfigPath: directory + "/config.json")
        var lowercase = true
        var stripAccents: Bool?
        if let tokenizerConfig = try? readJSON(directory + "/tokenizer_config.json") {
            lowercase = tokenizerConfig["do_lower_case"]?.boolValue ?? true
            stripAccents = tokenizerConfig["strip_accents"]?.boolValue
        }
        var length = configuration.maximumTokens
        if let sentenceConfig = try? readJSON(directory + "/sentence_bert_config.json"),
            let m = sentenceConfig["max_seq_length"]?.intValue
        {
            length = m
        }
        let tokenizer = try WordPieceTokenizer(
            vocabularyPath: directory + "/vocab.txt", lowercase: lowercase, stripAccents: stripAccents,
            maximumLength: min(maximumLength ?? length, configuration.maximumTokens))
        try self.init(
            weights: SafetensorsFile(path: directory + "/model.safetensors"), configuration: configuration,
            tokenizer: tokenizer, pooling: pooling ?? .mean, normalizes: normalizes, precision: precision)
    }

    /// Builds the encoder from an opened weight file, a configuration and a tokenizer.
    ///
    /// Keys are BERT's (`embeddings.*`, `encoder.layer.N.*`), with or without a
    /// `bert.` prefix, LayerNorm parameters as `weight`/`bias` or the older
    /// `gamma`/`beta`. `embeddings.position_ids`, `pooler.*` and `cls.*` are
    /// skipped; any other extra key is an error.
    public init(
        weights: consuming SafetensorsFile, configuration: BERTConfiguration, tokenizer: WordPieceTokenizer,
        pooling: Pooling = .mean, normalizes: Bool = true, precision: WeightPrecision = .float32
    ) throws(SearchError) {
        let geometry = configuration.geometry
        try geometry.validate("BERT configuration")
        guard tokenizer.maximumLength <= configuration.maximumTokens else {
            throw SearchError(
                .invalidArgument,
                "the tokenizer keeps \(tokenizer.maximumLength) tokens; the model takes \(configuration.maximumTokens)")
        }
        var loader = WeightLoader(file: weights)
        let prefix = loader.contains("bert.embeddings.word_embeddings.weight") ? "bert." : ""
        body = try BERTBody(loading: &loader, prefix: prefix, configuration: configuration, precision: precision)
        try loader.finish(
            ignoringPrefixes: [prefix + "pooler.", "cls."], ignoringKeys: [prefix + "embeddings.position_ids"])
        self.configuration = configuration
        self.tokenizer = tokenizer
        self.pooling = pooling
        self.normalizes = normalizes
        self.precision = precision
    }

    /// Embeds `texts` into `output`, `texts.count × dimension` floats, one after another.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/dimensionMismatch`` when `output` has the wrong size.
    public func embed(texts: [String], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        try embed(tokenIDs: texts.map(tokenizer.encode), into: output)
    }

    /// Embeds already tokenised sequences (each with its `[CLS]` and `[SEP]`).
    ///
    /// - Throws: ``SearchCore/SearchError/Code/invalidArgument`` for an empty
    ///   sequence, one longer than the model's positions, or an id outside the
    ///   vocabulary; ``SearchCore/SearchError/Code/dimensionMismatch`` for a
    ///   wrongly sized `output`.
    public func embed(tokenIDs: [[Int32]], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        try SearchError.checkDimension(output.count, expected: tokenIDs.count * configuration.hiddenSize, "the output buffer")
        try batching.run(count: tokenIDs.count, dimension: configuration.hiddenSize, output: output) { (pass, out) throws(SearchError) in
            try self.forward(Array(tokenIDs[pass]), into: out)
        }
    }

    /// One forward pass over `tokenIDs`.
    private func forward(_ tokenIDs: [[Int32]], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        if let threadCount { BLAS.threadCount = threadCount }
        try body.pooledStates(tokenIDs, pooling: pooling, into: output)
        if normalizes {
            let h = configuration.hiddenSize
            for i in 0..<tokenIDs.count {
                VectorMath.l2Normalize(UnsafeMutableBufferPointer(rebasing: output[(i * h)..<((i + 1) * h)]))
            }
        }
    }
}
