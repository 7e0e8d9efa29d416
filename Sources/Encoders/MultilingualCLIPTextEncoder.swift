import SearchCore
import Tensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Multilingual CLIP's text tower (M-CLIP; Carlsson et al. 2022): an
/// XLM-RoBERTa encoder, the mean of its last hidden states over the tokens,
/// and a linear map (`LinearTransformation`) into a CLIP image tower's
/// space — queries in a hundred languages against English-trained image
/// embeddings.
///
/// Reads a folder laid out as the hub publishes M-CLIP models, with the
/// weights in safetensors:
///
/// - `config.json`: `model_type` `M-CLIP`, `modelBase` (`xlm-roberta-large`,
///   `xlm-roberta-base`, or a subfolder holding that encoder's own
///   `config.json`), `transformerDimensions`, `numDims`;
/// - `model.safetensors`: `transformer.embeddings.…`, `transformer.encoder.layer.N.…`,
///   `LinearTransformation.{weight, bias}`. The hub publishes only
///   `pytorch_model.bin` (a pickle); convert it once, keys unchanged:
///
///   ```python
///   import torch; from safetensors.torch import save_file
///   state = torch.load("pytorch_model.bin", map_location="cpu", weights_only=True)
///   save_file({k: v.contiguous() for k, v in state.items()}, "model.safetensors")
///   ```
///
/// Token ids are XLM-R's: `<s>` (0) … `</s>` (2), no padding (the mean is
/// over the real tokens, as M-CLIP's attention-masked mean), positions from
/// `pad_token_id + 1`.
public struct MultilingualCLIPTextEncoder: TextEncoder {
    /// The XLM-RoBERTa encoder's geometry.
    public let configuration: BERTConfiguration
    /// The tokenizer ``embed(texts:into:)`` runs; nil when only token ids are embedded.
    public let tokenizer: (any SubwordTokenizer)?
    /// `<s>` … `</s>`, truncated to the positions, unpadded.
    public var framing: TextFraming
    /// Whether embeddings are scaled to unit length (true: compared by cosine with the image tower's).
    public let normalizes: Bool
    /// How a large batch is cut into forward passes and spread over threads.
    public var batching = BatchPolicy()
    /// When set, OpenBLAS's process-wide thread count is set to this before each batch.
    public var threadCount: Int?

    let body: BERTBody
    /// `[dimension, hiddenSize]`.
    let projection: Tensor<Float>
    let projectionBias: Tensor<Float>

    /// How the transformer blocks' projection weights are stored (see ``WeightPrecision``).
    public let precision: WeightPrecision

    /// The number of components of each embedding: `numDims`, the image tower's.
    public var dimension: Int { projection.shape[0] }

    /// Builds the tower from an opened M-CLIP weight file (`transformer.…`,
    /// `LinearTransformation.…`); `transformer.pooler.…` and
    /// `transformer.embeddings.position_ids` are skipped, anything else
    /// unexpected is an error.
    public init(
        weights: consuming SafetensorsFile, configuration: BERTConfiguration, dimension: Int,
        tokenizer: (any SubwordTokenizer)? = nil, normalizes: Bool = true, precision: WeightPrecision = .float32
    ) throws(SearchError) {
        guard dimension > 0 else { throw SearchError(.invalidArgument, "an embedding dimension must be positive, not \(dimension)") }
        var loader = WeightLoader(file: weights)
        body = try BERTBody(loading: &loader, prefix: "transformer.", configuration: configuration, precision: precision)
        projection = try loader.take("LinearTransformation.weight", shape: [dimension, configuration.hiddenSize])
        projectionBias = try loader.take("LinearTransformation.bias", shape: [dimension])
        try loader.finish(
            ignoringPrefixes: ["transformer.pooler."], ignoringKeys: ["transformer.embeddings.position_ids"])
        self.configuration = configuration
        self.tokenizer = tokenizer
        self.framing = TextFraming(
            leadingIDs: [0], trailingIDs: [2], paddingID: Int32(clamping: configuration.positionOffset - 1),
            length: configuration.maximumTokens, padsToLength: false)
        self.normalizes = normalizes
        self.precision = precision
    }

    /// Loads an M-CLIP folder (see the type's description).
    public init(
        directory: String, tokenizer: (any SubwordTokenizer)? = nil, normalizes: Bool = true,
        precision: WeightPrecision = .float32
    ) throws(SearchError) {
        let (configuration, dimension) = try Self.configuration(directory: directory)
        try self.init(
            weights: SafetensorsFile(path: directory + "/model.safetensors"), configuration: configuration,
            dimension: dimension, tokenizer: tokenizer, normalizes: normalizes, precision: precision)
    }

    /// The encoder's geometry and the output dimension from an M-CLIP folder's `config.json`.
    public static func configuration(directory: String) throws(SearchError) -> (BERTConfiguration, dimension: Int) {
        let path = directory + "/config.json"
        let json = try readJSON(path)
        guard json["model_type"]?.stringValue == "M-CLIP" else {
            throw SearchError(.unsupportedFormat, "\(path): model_type is not M-CLIP")
        }
        guard let base = json["modelBase"]?.stringValue, let dims = json["numDims"]?.intValue, dims > 0 else {
            throw SearchError(.corruptData, "\(path): an M-CLIP configuration needs modelBase and numDims")
        }
        let configuration: BERTConfiguration
        let local = directory + "/" + base + "/config.json"
        if !base.contains(".."), access(local, R_OK) == 0 {
            configuration = try BERTConfiguration(huggingFaceConfigPath: local)
        } else if let known = knownBases[base.split(separator: "/").last.map(String.init) ?? base] {
            configuration = known
        } else {
            throw SearchError(
                .unsupportedFormat,
                "\(path): modelBase \"\(base)\" is neither a subfolder with its config.json nor a known encoder (\(knownBases.keys.sorted().joined(separator: ", ")))")
        }
        if let width = json["transformerDimensions"]?.intValue, width != configuration.hiddenSize {
            throw SearchError(
                .corruptData, "\(path): transformerDimensions \(width) differs from the encoder's hidden size \(configuration.hiddenSize)")
        }
        return (configuration, dims)
    }

    /// The published XLM-RoBERTa geometries M-CLIP builds on.
    static let knownBases: [String: BERTConfiguration] = [
        "xlm-roberta-base": BERTConfiguration(
            vocabularySize: 250_002, hiddenSize: 768, layers: 12, heads: 12, intermediateSize: 3072, maximumPositions: 514,
            typeVocabularySize: 1, layerNormEpsilon: 1e-5, activation: .gelu, positionOffset: 2),
        "xlm-roberta-large": BERTConfiguration(
            vocabularySize: 250_002, hiddenSize: 1024, layers: 24, heads: 16, intermediateSize: 4096, maximumPositions: 514,
            typeVocabularySize: 1, layerNormEpsilon: 1e-5, activation: .gelu, positionOffset: 2),
    ]

    /// Embeds `texts` into `output`, `texts.count × dimension` floats: each
    /// text is tokenized and framed by ``framing``.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/invalidArgument`` when the
    ///   encoder has no ``tokenizer``; as ``embed(tokenIDs:into:)``.
    public func embed(texts: [String], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        guard let tokenizer else {
            throw SearchError(
                .invalidArgument, "this multilingual text encoder was built without a tokenizer; embed token ids instead")
        }
        try embed(tokenIDs: texts.map { framing.frame(tokenizer.encode(framing.prepare($0))) }, into: output)
    }

    /// Embeds token sequences (each with `<s>` and `</s>`, unpadded).
    ///
    /// - Throws: ``SearchCore/SearchError/Code/invalidArgument`` for an empty
    ///   sequence, one longer than ``BERTConfiguration/maximumTokens``, or an
    ///   id outside the vocabulary; ``SearchCore/SearchError/Code/dimensionMismatch``
    ///   for a wrongly sized `output`.
    public func embed(tokenIDs: [[Int32]], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        try SearchError.checkDimension(output.count, expected: tokenIDs.count * dimension, "the output buffer")
        try batching.run(count: tokenIDs.count, dimension: dimension, output: output) { (pass, out) throws(SearchError) in
            try self.forward(Array(tokenIDs[pass]), into: out)
        }
    }

    private func forward(_ tokenIDs: [[Int32]], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        if let threadCount { BLAS.threadCount = threadCount }
        var states = [Float](repeating: 0, count: tokenIDs.count * configuration.hiddenSize)
        try states.withUnsafeMutableBufferPointer { (states) throws(SearchError) in
            try body.pooledStates(tokenIDs, pooling: .mean, into: states)
            project(
                states.baseAddress!, count: tokenIDs.count, projection, bias: projectionBias, into: output,
                normalizes: normalizes)
        }
    }
}
