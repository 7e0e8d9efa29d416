import SearchCore
import Tensor

/// CLIP's text tower: byte-level BPE, a causal pre-LN transformer, the state
/// at the end token, a final layer norm and a linear projection
/// (Radford et al. 2021).
///
/// ```swift
/// let tokenizer = try CLIPTokenizer(mergesPath: "bpe_simple_vocab_16e6.txt")
/// let text = try CLIPTextEncoder(
///     weights: SafetensorsFile(path: "open_clip_model.safetensors"),
///     configuration: CLIPConfiguration(openCLIPConfigPath: "open_clip_config.json").text,
///     tokenizer: tokenizer)
/// let e = try text.embed("a photo of a cat")    // unit length
/// ```
///
/// Because of the causal mask, the state at the pooled position depends
/// only on the tokens up to it; each sequence is run only that far (the
/// result is the same as running all 77 positions).
public struct CLIPTextEncoder: TextEncoder {
    /// The tower's geometry.
    public let configuration: CLIPTextConfiguration
    /// The tokenizer ``embed(texts:into:)`` runs.
    public let tokenizer: CLIPTokenizer
    /// The naming the weights were read under.
    public let naming: CLIPNaming
    /// Whether embeddings are scaled to unit length (true: CLIP compares by cosine).
    public let normalizes: Bool
    /// How a large batch is cut into forward passes and spread over threads
    /// (passes of at most 64 items, one at a time, by default).
    public var batching = BatchPolicy()
    /// When set, OpenBLAS's process-wide thread count is set to this before each batch.
    public var threadCount: Int?

    /// FP16 unless ``precision`` is FP32.
    let tokenEmbeddings: EmbeddingTable
    let positionEmbeddings: Tensor<Float>
    let finalNormWeight: Tensor<Float>
    let finalNormBias: Tensor<Float>
    /// `[embeddingDimension, width]`, applied as `W·x`.
    let projection: Tensor<Float>
    let stack: TransformerStack

    /// How the transformer blocks' projection weights are stored (see ``WeightPrecision``).
    public let precision: WeightPrecision
    /// Bytes held by the transformer blocks' projection weights in ``precision``.
    public var blockWeightByteCount: Int { stack.projectionByteCount }

    /// The number of components of each embedding: the projection's output.
    public var dimension: Int { configuration.embeddingDimension }

    /// Loads the text tower from a whole-CLIP (or text-only) weight file,
    /// in either naming (detected when `naming` is nil). The image tower's
    /// tensors and `logit_scale` are skipped; anything else unexpected is an error.
    /// `precision` says how the blocks' projections are kept (FP32 by default).
    public init(
        weights: consuming SafetensorsFile, configuration: CLIPTextConfiguration, tokenizer: CLIPTokenizer,
        naming: CLIPNaming? = nil, normalizes: Bool = true, precision: WeightPrecision = .float32
    ) throws(SearchError) {
        try configuration.geometry.validate("CLIP text configuration")
        guard tokenizer.contextLength <= configuration.contextLength,
            tokenizer.vocabularySize <= configuration.vocabularySize
        else {
            throw SearchError(
                .invalidArgument,
                "the tokenizer (context \(tokenizer.contextLength), \(tokenizer.vocabularySize) ids) does not fit the model (context \(configuration.contextLength), \(configuration.vocabularySize) ids)")
        }
        let naming = try CLIPNaming.resolve(naming, weights.header)
        var loader = WeightLoader(file: weights)
        let w = configuration.width, e = configuration.embeddingDimension
        switch naming {
        case .openAI:
            tokenEmbeddings = EmbeddingTable(
                try loader.take("token_embedding.weight", shape: [configuration.vocabularySize, w]), precision: precision)
            positionEmbeddings = try loader.take("positional_embedding", shape: [configuration.contextLength, w])
            finalNormWeight = try loader.take("ln_final.weight", shape: [w])
            finalNormBias = try loader.take("ln_final.bias", shape: [w])
            projection = transposed(try loader.take("text_projection", shape: [w, e]))
            stack = try TransformerStack(loading: &loader, keys: .openAI(""), geometry: configuration.geometry, precision: precision)
            try loader.finish(ignoringPrefixes: ["visual."], ignoringKeys: ["logit_scale", "attn_mask"])
        case .huggingFace:
            tokenEmbeddings = EmbeddingTable(
                try loader.take("text_model.embeddings.token_embedding.weight", shape: [configuration.vocabularySize, w]),
                precision: precision)
            positionEmbeddings = try loader.take(
                "text_model.embeddings.position_embedding.weight", shape: [configuration.contextLength, w])
            finalNormWeight = try loader.take("text_model.final_layer_norm.weight", shape: [w])
            finalNormBias = try loader.take("text_model.final_layer_norm.bias", shape: [w])
            projection = try loader.take("text_projection.weight", shape: [e, w])
            stack = try TransformerStack(
                loading: &loader, keys: .huggingFaceCLIP("text_model."), geometry: configuration.geometry, precision: precision)
            try loader.finish(
                ignoringPrefixes: ["vision_model.", "visual_projection."],
                ignoringKeys: ["logit_scale", "text_model.embeddings.position_ids"])
        }
        self.configuration = configuration
        self.tokenizer = tokenizer
        self.naming = naming
        self.normalizes = normalizes
        self.precision = precision
    }

    /// Embeds `texts` into `output`, `texts.count × dimension` floats, one after another.
    public func embed(texts: [String], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        try embed(tokenIDs: texts.map(tokenizer.encode), into: output)
    }

    /// The position a sequence is pooled at: the first largest id (OpenAI),
    /// or the first ``CLIPTextConfiguration/poolingTokenID`` (0 when absent, as Hugging Face).
    func poolingPosition(_ ids: [Int32]) -> Int {
        if let token = configuration.poolingTokenID {
            return ids.firstIndex(of: token) ?? 0
        }
        var best = 0
        for (i, id) in ids.enumerated() where id > ids[best] { best = i }
        return best
    }

    /// Embeds token sequences (each with its start and end tokens; zero padding allowed).
    ///
    /// - Throws: ``SearchCore/SearchError/Code/invalidArgument`` for an empty
    ///   sequence, one longer than the context, or an id outside the
    ///   vocabulary; ``SearchCore/SearchError/Code/dimensionMismatch`` for a
    ///   wrongly sized `output`.
    public func embed(tokenIDs: [[Int32]], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        try SearchError.checkDimension(output.count, expected: tokenIDs.count * configuration.embeddingDimension, "the output buffer")
        try batching.run(count: tokenIDs.count, dimension: configuration.embeddingDimension, output: output) { (pass, out) throws(SearchError) in
            try self.forward(Array(tokenIDs[pass]), into: out)
        }
    }

    /// One forward pass over `tokenIDs`.
    private func forward(_ tokenIDs: [[Int32]], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        let w = configuration.width, e = configuration.embeddingDimension
        try SearchError.checkDimension(output.count, expected: tokenIDs.count * e, "the output buffer")
        var sequences: [Range<Int>] = []
        var pooled: [Int] = []
        var tokens = 0
        for ids in tokenIDs {
            try TokenSequence.check(ids, maximumTokens: configuration.contextLength, vocabularySize: configuration.vocabularySize)
            let length = poolingPosition(ids) + 1
            sequences.append(tokens..<(tokens + length))
            pooled.append(tokens + length - 1)
            tokens += length
        }
        guard tokens > 0 else { return }
        if let threadCount { BLAS.threadCount = threadCount }
        // Sequences end at the pooled (end-of-text) token; every state runs through all blocks.
        var pass = TextTowerPass(width: w, epsilon: configuration.layerNormEpsilon)
        pass.keepsOnlyPooled = false
        positionEmbeddings.withUnsafeBufferPointer { positions in
            pass(
                tokenIDs, sequences: sequences, pooled: pooled, tokenEmbeddings: tokenEmbeddings, positions: positions,
                stack: stack, finalNorm: (finalNormWeight, finalNormBias), projection: projection, bias: nil,
                normalizes: normalizes, into: output)
        }
    }
}

/// `output[i] ← P·states[i] (+ b)` for each row, `P` `[e, w]`, then optional L2 normalisation.
func project(
    _ states: UnsafePointer<Float>, count: Int, _ projection: Tensor<Float>, bias: Tensor<Float>? = nil,
    into output: UnsafeMutableBufferPointer<Float>, normalizes: Bool
) {
    let e = projection.shape[0], w = projection.shape[1]
    projection.withUnsafeBufferPointer { p in
        BLAS.sgemm(
            m: count, n: e, k: w, a: states, lda: w, b: p.baseAddress!, ldb: w, transposeB: true,
            c: output.baseAddress!, ldc: e)
    }
    bias?.withUnsafeBufferPointer { b in
        for i in 0..<count {
            for j in 0..<e { output[i * e + j] += b[j] }
        }
    }
    if normalizes {
        for i in 0..<count {
            VectorMath.l2Normalize(UnsafeMutableBufferPointer(rebasing: output[(i * e)..<((i + 1) * e)]))
        }
    }
}

/// The transpose of a matrix, as a new tensor.
func transposed(_ m: Tensor<Float>) -> Tensor<Float> {
    let rows = m.shape[0], columns = m.shape[1]
    var t = Tensor<Float>(shape: [columns, rows])
    m.withUnsafeBufferPointer { source in
        t.withUnsafeMutableBufferPointer { target in
            for r in 0..<rows {
                for c in 0..<columns { target[c * rows + r] = source[r * columns + c] }
            }
        }
    }
    return t
}
