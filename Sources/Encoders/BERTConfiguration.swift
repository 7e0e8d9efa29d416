import SearchCore

/// The geometry of a BERT-family encoder (BERT, MiniLM, BGE, E5), as its
/// Hugging Face `config.json` states it.
public struct BERTConfiguration: Sendable, Equatable {
    /// Token ids (`vocab_size`: 30,522 for uncased BERT vocabularies).
    public var vocabularySize: Int
    /// The width of every token state (`hidden_size`: 384 in MiniLM-L6, 768 in BERT-base).
    public var hiddenSize: Int
    /// Transformer blocks (`num_hidden_layers`).
    public var layers: Int
    /// Attention heads per block (`num_attention_heads`); divides `hiddenSize`.
    public var heads: Int
    /// The MLP's inner width (`intermediate_size`, usually 4 × hidden).
    public var intermediateSize: Int
    /// Positions the model has embeddings for (`max_position_embeddings`, 512).
    public var maximumPositions: Int
    /// Token types (`type_vocab_size`, 2); every token here is type 0.
    public var typeVocabularySize: Int
    /// `layer_norm_eps`: 1e-12 in BERT.
    public var layerNormEpsilon: Float
    /// `hidden_act`: `gelu` (erf form) in BERT.
    public var activation: Activation
    /// The position embedding row of a sequence's first token: 0 in BERT;
    /// `pad_token_id + 1` (2) in RoBERTa and XLM-RoBERTa, whose position ids
    /// count from past the padding index.
    public var positionOffset: Int

    /// The longest sequence the positions allow: `maximumPositions − positionOffset`.
    public var maximumTokens: Int { maximumPositions - positionOffset }

    /// A geometry given field by field; defaults are BERT's.
    public init(
        vocabularySize: Int, hiddenSize: Int, layers: Int, heads: Int, intermediateSize: Int,
        maximumPositions: Int = 512, typeVocabularySize: Int = 2, layerNormEpsilon: Float = 1e-12,
        activation: Activation = .gelu, positionOffset: Int = 0
    ) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.heads = heads
        self.intermediateSize = intermediateSize
        self.maximumPositions = maximumPositions
        self.typeVocabularySize = typeVocabularySize
        self.layerNormEpsilon = layerNormEpsilon
        self.activation = activation
        self.positionOffset = positionOffset
    }

    /// Reads a Hugging Face `config.json` of `model_type` `bert`, `roberta`
    /// or `xlm-roberta` (the last two with ``positionOffset`` `pad_token_id + 1`).
    ///
    /// - Throws: ``SearchCore/SearchError/Code/unsupportedFormat`` for another
    ///   architecture or an unknown activation;
    ///   ``SearchCore/SearchError/Code/corruptData`` when a field is missing.
    public init(huggingFaceConfigPath path: String) throws(SearchError) {
        let json = try readJSON(path)
        let type = json["model_type"]?.stringValue ?? "bert"
        guard ["bert", "roberta", "xlm-roberta"].contains(type) else {
            throw SearchError(.unsupportedFormat, "\(path): model_type \"\(type)\" is not a BERT, RoBERTa or XLM-RoBERTa encoder")
        }
        let offset = type == "bert" ? 0 : (json["pad_token_id"]?.intValue ?? 1) + 1
        if let kind = json["position_embedding_type"]?.stringValue, kind != "absolute" {
            throw SearchError(.unsupportedFormat, "\(path): position_embedding_type \"\(kind)\" is not supported (absolute)")
        }
        func int(_ key: String) throws(SearchError) -> Int {
            guard let v = json[key]?.intValue, v > 0 else {
                throw SearchError(.corruptData, "\(path): \(key) is missing or not a positive integer")
            }
            return v
        }
        self.init(
            vocabularySize: try int("vocab_size"), hiddenSize: try int("hidden_size"),
            layers: try int("num_hidden_layers"), heads: try int("num_attention_heads"),
            intermediateSize: try int("intermediate_size"),
            maximumPositions: json["max_position_embeddings"]?.intValue ?? 512,
            typeVocabularySize: json["type_vocab_size"]?.intValue ?? 2,
            layerNormEpsilon: Float(json["layer_norm_eps"]?.doubleValue ?? 1e-12),
            activation: try Activation(huggingFace: json["hidden_act"]?.stringValue ?? "gelu"), positionOffset: offset)
        guard maximumTokens > 0 else {
            throw SearchError(.corruptData, "\(path): max_position_embeddings leaves no positions past the padding index")
        }
    }

    var geometry: TransformerGeometry {
        TransformerGeometry(
            width: hiddenSize, heads: heads, layers: layers, mlpWidth: intermediateSize, activation: activation,
            layerNormEpsilon: layerNormEpsilon, placement: .post, causal: false)
    }
}
