import SearchCore

/// The two ways CLIP checkpoints name their tensors.
public enum CLIPNaming: Sendable {
    /// OpenAI's CLIP and open_clip: `visual.conv1.weight`, `visual.transformer.resblocks.N…`,
    /// `token_embedding.weight`, `transformer.resblocks.N…`, `visual.proj`, `text_projection`;
    /// open_clip's SigLIP: `visual.trunk.…` (timm), `text.…`.
    case openAI
    /// Hugging Face `CLIPModel`: `vision_model.embeddings…`, `vision_model.encoder.layers.N…`,
    /// `text_model…`, `visual_projection.weight`, `text_projection.weight`; `SiglipModel`:
    /// the same towers with `vision_model.head.…` and `text_model.head.…`.
    case huggingFace
}

/// How a vision transformer turns its token states into one vector.
public enum VisionPooling: Sendable, Equatable {
    /// CLIP's: a learned class token before the patches, a layer norm before
    /// the blocks, the class token's final state layer-normed and projected.
    case classToken
    /// SigLIP's: patches only (the patch convolution has a bias), no layer
    /// norm before the blocks, every final state layer-normed, then
    /// multihead attention pooling (MAP; Zhai et al. 2022): one learned probe
    /// attends over the states, then a residual MLP behind a layer norm. The
    /// pooled state is the embedding (no projection).
    case attentionPool
}

/// The geometry of CLIP's image tower, a vision transformer (Dosovitskiy et al. 2021),
/// and of SigLIP's (``VisionPooling/attentionPool``).
public struct CLIPVisionConfiguration: Sendable, Equatable {
    /// The input side the positional embeddings were trained for (224).
    public var imageSize: Int
    /// The patch side (32 for ViT-B/32, 16 for B/16, 14 for L/14).
    public var patchSize: Int
    /// The width of every token state (768 in ViT-B, 1024 in ViT-L).
    public var width: Int
    /// Transformer blocks.
    public var layers: Int
    /// Attention heads per block (width ÷ 64 in OpenAI's models).
    public var heads: Int
    /// The MLP's inner width (4 × width).
    public var mlpWidth: Int
    /// QuickGELU for OpenAI's weights, GELU for most open_clip-trained ones.
    public var activation: Activation
    /// The layer norms' epsilon (1e-5).
    public var layerNormEpsilon: Float
    /// The embedding's dimension after projection (the width under attention pooling).
    public var embeddingDimension: Int
    /// How the token states become the embedding (CLIP's class token by default).
    public var pooling: VisionPooling

    /// A geometry given field by field.
    public init(
        imageSize: Int, patchSize: Int, width: Int, layers: Int, heads: Int, mlpWidth: Int,
        activation: Activation, layerNormEpsilon: Float = 1e-5, embeddingDimension: Int,
        pooling: VisionPooling = .classToken
    ) {
        self.imageSize = imageSize
        self.patchSize = patchSize
        self.width = width
        self.layers = layers
        self.heads = heads
        self.mlpWidth = mlpWidth
        self.activation = activation
        self.layerNormEpsilon = layerNormEpsilon
        self.embeddingDimension = embeddingDimension
        self.pooling = pooling
    }

    /// Patches per side at the trained input size.
    public var gridSize: Int { imageSize / patchSize }

    /// Tokens before the patches: CLIP's class token, or none.
    var leadingTokens: Int { pooling == .classToken ? 1 : 0 }

    var geometry: TransformerGeometry {
        TransformerGeometry(
            width: width, heads: heads, layers: layers, mlpWidth: mlpWidth, activation: activation,
            layerNormEpsilon: layerNormEpsilon, placement: .pre, causal: false)
    }

    /// OpenAI's ViT-B/32: 224 px, 32 px patches, width 768, 12 layers, 12 heads, 512-d embeddings, QuickGELU.
    public static let vitB32 = CLIPVisionConfiguration(
        imageSize: 224, patchSize: 32, width: 768, layers: 12, heads: 12, mlpWidth: 3072, activation: .quickGELU,
        embeddingDimension: 512)
    /// OpenAI's ViT-B/16: as B/32 with 16 px patches (197 tokens).
    public static let vitB16 = CLIPVisionConfiguration(
        imageSize: 224, patchSize: 16, width: 768, layers: 12, heads: 12, mlpWidth: 3072, activation: .quickGELU,
        embeddingDimension: 512)
    /// OpenAI's ViT-L/14: 14 px patches, width 1024, 24 layers, 16 heads, 768-d embeddings.
    public static let vitL14 = CLIPVisionConfiguration(
        imageSize: 224, patchSize: 14, width: 1024, layers: 24, heads: 16, mlpWidth: 4096, activation: .quickGELU,
        embeddingDimension: 768)
}

/// The geometry of CLIP's text tower, a causal transformer.
public struct CLIPTextConfiguration: Sendable, Equatable {
    /// Token positions (77).
    public var contextLength: Int
    /// Token ids (49,408: the BPE vocabulary).
    public var vocabularySize: Int
    /// The width of every token state (512 for ViT-B models, 768 for L/14).
    public var width: Int
    /// Transformer blocks.
    public var layers: Int
    /// Attention heads per block.
    public var heads: Int
    /// The MLP's inner width (4 × width).
    public var mlpWidth: Int
    /// QuickGELU for OpenAI's weights, GELU for most open_clip-trained ones.
    public var activation: Activation
    /// The layer norms' epsilon (1e-5).
    public var layerNormEpsilon: Float
    /// The embedding's dimension after projection (the image tower's too).
    public var embeddingDimension: Int
    /// Where the sequence is pooled: nil for the position of the largest id
    /// (OpenAI's `argmax`, which is the end token); else the first position
    /// holding this id (Hugging Face with `eos_token_id` ≠ 2).
    public var poolingTokenID: Int32?

    /// A geometry given field by field.
    public init(
        contextLength: Int = 77, vocabularySize: Int = 49408, width: Int, layers: Int, heads: Int, mlpWidth: Int,
        activation: Activation, layerNormEpsilon: Float = 1e-5, embeddingDimension: Int, poolingTokenID: Int32? = nil
    ) {
        self.contextLength = contextLength
        self.vocabularySize = vocabularySize
        self.width = width
        self.layers = layers
        self.heads = heads
        self.mlpWidth = mlpWidth
        self.activation = activation
        self.layerNormEpsilon = layerNormEpsilon
        self.embeddingDimension = embeddingDimension
        self.poolingTokenID = poolingTokenID
    }

    var geometry: TransformerGeometry {
        TransformerGeometry(
            width: width, heads: heads, layers: layers, mlpWidth: mlpWidth, activation: activation,
            layerNormEpsilon: layerNormEpsilon, placement: .pre, causal: true)
    }

    /// OpenAI's text tower for ViT-B models: width 512, 12 layers, 8 heads, 512-d embeddings.
    public static let base = CLIPTextConfiguration(
        width: 512, layers: 12, heads: 8, mlpWidth: 2048, activation: .quickGELU, embeddingDimension: 512)
}

/// Both towers' geometry, read from the configuration that comes with the weights.
public struct CLIPConfiguration: Sendable, Equatable {
    /// The image tower.
    public var vision: CLIPVisionConfiguration
    /// The text tower.
    public var text: CLIPTextConfiguration

    /// Both towers, given.
    public init(vision: CLIPVisionConfiguration, text: CLIPTextConfiguration) {
        self.vision = vision
        self.text = text
    }

    /// Reads an open_clip model configuration (`ViT-B-32.json`, or the
    /// `open_clip_config.json` of a hub folder, whose `model_cfg` is used):
    /// `embed_dim`, `quick_gelu`, `vision_cfg` {`image_size`, `patch_size`,
    /// `width`, `layers`, `head_width` (64), `mlp_ratio` (4)}, `text_cfg`
    /// {`context_length`, `vocab_size`, `width`, `heads`, `layers`, `mlp_ratio`}.
    ///
    /// - Parameter quickGELU: overrides the file's `quick_gelu` (OpenAI's own
    ///   weights need QuickGELU even under the plain `ViT-B-32` name).
    public init(openCLIPConfigPath path: String, quickGELU: Bool? = nil) throws(SearchError) {
        var json = try readJSON(path)
        if let model = json["model_cfg"] { json = model }
        guard let vision = json["vision_cfg"], let text = json["text_cfg"] else {
            throw SearchError(.corruptData, "\(path): an open_clip configuration needs vision_cfg and text_cfg")
        }
        func int(_ object: JSONValue, _ key: String, _ fallback: Int? = nil) throws(SearchError) -> Int {
            guard let v = object[key]?.intValue ?? fallback, v > 0 else {
                throw SearchError(.corruptData, "\(path): \(key) is missing or not a positive integer")
            }
            return v
        }
        for unsupported in ["timm_model_name", "hf_model_name"] where vision[unsupported] != nil || text[unsupported] != nil {
            throw SearchError(.unsupportedFormat, "\(path): \(unsupported) towers are not supported")
        }
        let embed = try int(json, "embed_dim")
        let activation: Activation = (quickGELU ?? json["quick_gelu"]?.boolValue ?? false) ? .quickGELU : .gelu
        let vWidth = try int(vision, "width")
        let headWidth = try int(vision, "head_width", 64)
        guard vWidth % headWidth == 0 else {
            throw SearchError(.corruptData, "\(path): vision width \(vWidth) is not a multiple of head_width \(headWidth)")
        }
        let vRatio = vision["mlp_ratio"]?.doubleValue ?? 4
        let tWidth = try int(text, "width")
        let tRatio = text["mlp_ratio"]?.doubleValue ?? 4
        self.vision = CLIPVisionConfiguration(
            imageSize: try int(vision, "image_size"), patchSize: try int(vision, "patch_size"), width: vWidth,
            layers: try int(vision, "layers"), heads: vWidth / headWidth, mlpWidth: Int(Double(vWidth) * vRatio),
            activation: activation, embeddingDimension: embed)
        self.text = CLIPTextConfiguration(
            contextLength: try int(text, "context_length", 77), vocabularySize: try int(text, "vocab_size", 49408),
            width: tWidth, layers: try int(text, "layers"), heads: try int(text, "heads", 8),
            mlpWidth: Int(Double(tWidth) * tRatio), activation: activation, embeddingDimension: embed)
    }

    /// Reads a Hugging Face `CLIPModel` `config.json`: `projection_dim`,
    /// `text_config` and `vision_config` ({`hidden_size`, `intermediate_size`,
    /// `num_attention_heads`, `num_hidden_layers`, `hidden_act`,
    /// `layer_norm_eps`, …}), Hugging Face's defaults where a field is absent.
    public init(huggingFaceConfigPath path: String) throws(SearchError) {
        let json = try readJSON(path)
        if let type = json["model_type"]?.stringValue, type != "clip" {
            throw SearchError(.unsupportedFormat, "\(path): model_type \"\(type)\" is not CLIP")
        }
        let vision = json["vision_config"] ?? .object([])
        let text = json["text_config"] ?? .object([])
        func int(_ object: JSONValue, _ key: String, _ fallback: Int) throws(SearchError) -> Int {
            let v = object[key]?.intValue ?? fallback
            guard v > 0 else { throw SearchError(.corruptData, "\(path): \(key) must be a positive integer") }
            return v
        }
        let embed = try int(json, "projection_dim", 512)
        self.vision = CLIPVisionConfiguration(
            imageSize: try int(vision, "image_size", 224), patchSize: try int(vision, "patch_size", 32),
            width: try int(vision, "hidden_size", 768), layers: try int(vision, "num_hidden_layers", 12),
            heads: try int(vision, "num_attention_heads", 12), mlpWidth: try int(vision, "intermediate_size", 3072),
            activation: try Activation(huggingFace: vision["hidden_act"]?.stringValue ?? "quick_gelu"),
            layerNormEpsilon: Float(vision["layer_norm_eps"]?.doubleValue ?? 1e-5), embeddingDimension: embed)
        // Hugging Face pools at argmax when eos_token_id is the legacy 2, else at the first eos_token_id.
        let eos = text["eos_token_id"]?.intValue ?? 2
        self.text = CLIPTextConfiguration(
            contextLength: try int(text, "max_position_embeddings", 77), vocabularySize: try int(text, "vocab_size", 49408),
            width: try int(text, "hidden_size", 512), layers: try int(text, "num_hidden_layers", 12),
            heads: try int(text, "num_attention_heads", 8), mlpWidth: try int(text, "intermediate_size", 2048),
            activation: try Activation(huggingFace: text["hidden_act"]?.stringValue ?? "quick_gelu"),
            layerNormEpsilon: Float(text["layer_norm_eps"]?.doubleValue ?? 1e-5), embeddingDimension: embed,
            poolingTokenID: eos == 2 ? nil : Int32(clamping: eos))
    }
}

extension CLIPNaming {
    /// `given`, or the naming detected from the header.
    static func resolve(_ given: CLIPNaming?, _ header: SafetensorsHeader) throws(SearchError) -> CLIPNaming {
        if let given { return given }
        return try detect(header)
    }

    /// The naming a weight file uses, told by a tensor only that naming has.
    static func detect(_ header: SafetensorsHeader) throws(SearchError) -> CLIPNaming {
        if header["visual.conv1.weight"] != nil || header["token_embedding.weight"] != nil
            || header["visual.trunk.patch_embed.proj.weight"] != nil
        {
            return .openAI
        }
        if header["vision_model.embeddings.patch_embedding.weight"] != nil
            || header["text_model.embeddings.token_embedding.weight"] != nil
        {
            return .huggingFace
        }
        throw SearchError(
            .unsupportedFormat,
            "neither OpenAI/open_clip (visual.conv1.weight) nor Hugging Face CLIPModel (vision_model.embeddings.patch_embedding.weight) tensors found")
    }
}
