import SearchCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The geometry of an NLLB-200 (M2M-100) encoder, the text tower of
/// NLLB-CLIP and NLLB-SigLIP (Visheratin 2023), as its Hugging Face
/// `config.json` states it.
public struct NLLBConfiguration: Sendable, Equatable {
    /// Token ids (`vocab_size`: 256,206 in NLLB-200: the SentencePiece pieces
    /// in fairseq's order, the 202 language codes, `<mask>`).
    public var vocabularySize: Int
    /// The width of every token state (`d_model`: 1024 in the 600M and 1.3B models).
    public var width: Int
    /// Encoder blocks (`encoder_layers`: 12 in 600M, 24 in 1.3B).
    public var layers: Int
    /// Attention heads per block (`encoder_attention_heads`: 16).
    public var heads: Int
    /// The MLP's inner width (`encoder_ffn_dim`: 4096 in 600M, 8192 in 1.3B).
    public var mlpWidth: Int
    /// Positions the sinusoidal table covers (`max_position_embeddings`: 1024).
    public var maximumPositions: Int
    /// `scale_embedding`: token embeddings multiplied by √width (true in NLLB-200).
    public var scalesEmbeddings: Bool
    /// `activation_function`: ReLU in NLLB-200.
    public var activation: Activation
    /// `pad_token_id` (1): positions count from it, past it.
    public var paddingID: Int32

    /// A geometry given field by field; defaults are NLLB-200's.
    public init(
        vocabularySize: Int = 256_206, width: Int = 1024, layers: Int, heads: Int = 16, mlpWidth: Int,
        maximumPositions: Int = 1024, scalesEmbeddings: Bool = true, activation: Activation = .relu, paddingID: Int32 = 1
    ) {
        self.vocabularySize = vocabularySize
        self.width = width
        self.layers = layers
        self.heads = heads
        self.mlpWidth = mlpWidth
        self.maximumPositions = maximumPositions
        self.scalesEmbeddings = scalesEmbeddings
        self.activation = activation
        self.paddingID = paddingID
    }

    /// `facebook/nllb-200-distilled-600M`, NLLB-SigLIP base's text tower.
    public static let distilled600M = NLLBConfiguration(layers: 12, mlpWidth: 4096)
    /// `facebook/nllb-200-distilled-1.3B`, NLLB-SigLIP large's text tower.
    public static let distilled1_3B = NLLBConfiguration(layers: 24, mlpWidth: 8192)

    /// The geometry of a published NLLB-200 encoder by its hub name (as open_clip's `hf_model_name` gives it).
    public static func published(_ name: String) -> NLLBConfiguration? {
        switch name.split(separator: "/").last.map(String.init) ?? name {
        case "nllb-200-distilled-600M": distilled600M
        case "nllb-200-distilled-1.3B", "nllb-200-1.3B": distilled1_3B
        default: nil
        }
    }

    /// The longest sequence the positions allow (`maximumPositions`; the table has two rows more, below them).
    public var maximumTokens: Int { maximumPositions }

    /// Reads a Hugging Face `config.json` of `model_type` `m2m_100` (NLLB-200's) for its encoder.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/unsupportedFormat`` for another
    ///   architecture, an unknown activation or learned positions;
    ///   ``SearchCore/SearchError/Code/corruptData`` when a field is missing.
    public init(huggingFaceConfigPath path: String) throws(SearchError) {
        let json = try readJSON(path)
        guard json["model_type"]?.stringValue == "m2m_100" else {
            throw SearchError(
                .unsupportedFormat, "\(path): model_type \"\(json["model_type"]?.stringValue ?? "")\" is not m2m_100 (NLLB-200)")
        }
        func int(_ key: String) throws(SearchError) -> Int {
            guard let v = json[key]?.intValue, v > 0 else {
                throw SearchError(.corruptData, "\(path): \(key) is missing or not a positive integer")
            }
            return v
        }
        self.init(
            vocabularySize: try int("vocab_size"), width: try int("d_model"), layers: try int("encoder_layers"),
            heads: try int("encoder_attention_heads"), mlpWidth: try int("encoder_ffn_dim"),
            maximumPositions: try int("max_position_embeddings"),
            scalesEmbeddings: json["scale_embedding"]?.boolValue ?? false,
            activation: try Activation(huggingFace: json["activation_function"]?.stringValue ?? "relu"),
            paddingID: Int32(json["pad_token_id"]?.intValue ?? 1))
        guard width % heads == 0, width >= 4 else {
            throw SearchError(.corruptData, "\(path): d_model \(width) is not a multiple of \(heads) heads")
        }
    }

    var geometry: TransformerGeometry {
        TransformerGeometry(
            width: width, heads: heads, layers: layers, mlpWidth: mlpWidth, activation: activation,
            layerNormEpsilon: 1e-5, placement: .pre, causal: false)
    }

    /// fairseq's sinusoidal table as M2M-100 builds it: row *p* holds
    /// `sin(p·fᵢ)` for *i* < width/2 then `cos(p·fᵢ)`, `fᵢ = exp(−i·ln 10⁴ / (width/2 − 1))`,
    /// in single precision as PyTorch computes it; the padding row is zero.
    /// Rows `0 ..< maximumPositions + 2`; a token at index *t* reads row `paddingID + 1 + t`.
    func sinusoidalPositions() -> [Float] {
        let rows = maximumPositions + 2, half = width / 2
        let step = Float(log(10_000.0) / Double(half - 1))
        var frequencies = [Float](repeating: 0, count: half)
        for i in 0..<half { frequencies[i] = expf(Float(i) * -step) }
        var table = [Float](repeating: 0, count: rows * width)
        for p in 0..<rows where p != Int(paddingID) {
            for i in 0..<half {
                let angle = Float(p) * frequencies[i]
                table[p * width + i] = sinf(angle)
                table[p * width + half + i] = cosf(angle)
            }
        }
        return table
    }
}
