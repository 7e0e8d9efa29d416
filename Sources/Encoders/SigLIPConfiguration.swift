import SearchCore

/// The geometry of SigLIP's text tower: a bidirectional pre-LN transformer
/// over a fixed-length padded sequence, pooled at the last position.
public struct SigLIPTextConfiguration: Sendable, Equatable {
    /// Token positions (`max_position_embeddings`: 64); text is padded to it.
    public var contextLength: Int
    /// Token ids (32,000 for SigLIP's SentencePiece model, 256,000 for SigLIP 2's Gemma one).
    public var vocabularySize: Int
    /// The width of every token state (768 in base models, 1152 in so400m).
    public var width: Int
    /// Transformer blocks.
    public var layers: Int
    /// Attention heads per block.
    public var heads: Int
    /// The MLP's inner width.
    public var mlpWidth: Int
    /// GELU's tanh form in every published SigLIP.
    public var activation: Activation
    /// The layer norms' epsilon (1e-6).
    public var layerNormEpsilon: Float
    /// The head's output (`projection_size`; the width when absent).
    public var embeddingDimension: Int

    /// A geometry given field by field.
    public init(
        contextLength: Int = 64, vocabularySize: Int, width: Int, layers: Int, heads: Int, mlpWidth: Int,
        activation: Activation = .geluTanh, layerNormEpsilon: Float = 1e-6, embeddingDimension: Int? = nil
    ) {
        self.contextLength = contextLength
        self.vocabularySize = vocabularySize
        self.width = width
        self.layers = layers
        self.heads = heads
        self.mlpWidth = mlpWidth
        self.activation = activation
        self.layerNormEpsilon = layerNormEpsilon
        self.embeddingDimension = embeddingDimension ?? width
    }

    var geometry: TransformerGeometry {
        TransformerGeometry(
            width: width, heads: heads, layers: layers, mlpWidth: mlpWidth, activation: activation,
            layerNormEpsilon: layerNormEpsilon, placement: .pre, causal: false)
    }
}

/// Both towers of a SigLIP or SigLIP 2 (fixed-resolution) model (Zhai et al.
/// 2023; Tschannen et al. 2025), read from the configuration that comes with the weights.
///
/// The image tower is a ``CLIPImageEncoder`` with
/// ``VisionPooling/attentionPool``; the text tower a ``SigLIPTextEncoder``.
public struct SigLIPConfiguration: Sendable, Equatable {
    /// The image tower (``VisionPooling/attentionPool``, embedding = width).
    public var vision: CLIPVisionConfiguration
    /// The text tower.
    public var text: SigLIPTextConfiguration

    /// Both towers, given.
    public init(vision: CLIPVisionConfiguration, text: SigLIPTextConfiguration) {
        self.vision = vision
        self.text = text
    }

    /// Reads a Hugging Face `SiglipModel` `config.json` (`model_type`
    /// `siglip`, which SigLIP 2's fixed-resolution checkpoints use too):
    /// `text_config` and `vision_config` ({`hidden_size`,
    /// `intermediate_size`, `num_attention_heads`, `num_hidden_layers`,
    /// `hidden_act`, `layer_norm_eps`, `image_size`, `patch_size`,
    /// `max_position_embeddings`, `vocab_size`, `projection_size`}),
    /// Hugging Face's defaults where a field is absent.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/unsupportedFormat`` for
    ///   another `model_type` (SigLIP 2's variable-resolution NaFlex models,
    ///   `siglip2`, are not supported), or a vision tower without the
    ///   attention-pooling head (`vision_use_head: false`).
    public init(huggingFaceConfigPath path: String) throws(SearchError) {
        let json = try readJSON(path)
        if let type = json["model_type"]?.stringValue, type != "siglip" {
            let hint = type == "siglip2" ? " (SigLIP 2's NaFlex checkpoints are not supported; its fixed-resolution ones are)" : ""
            throw SearchError(.unsupportedFormat, "\(path): model_type \"\(type)\" is not SigLIP\(hint)")
        }
        let vision = json["vision_config"] ?? .object([])
        let text = json["text_config"] ?? .object([])
        func int(_ object: JSONValue, _ key: String, _ fallback: Int) throws(SearchError) -> Int {
            let v = object[key]?.intValue ?? fallback
            guard v > 0 else { throw SearchError(.corruptData, "\(path): \(key) must be a positive integer") }
            return v
        }
        if vision["vision_use_head"]?.boolValue == false {
            throw SearchError(.unsupportedFormat, "\(path): a SigLIP vision tower without its pooling head is not supported")
        }
        let vWidth = try int(vision, "hidden_size", 768)
        self.vision = CLIPVisionConfiguration(
            imageSize: try int(vision, "image_size", 224), patchSize: try int(vision, "patch_size", 16), width: vWidth,
            layers: try int(vision, "num_hidden_layers", 12), heads: try int(vision, "num_attention_heads", 12),
            mlpWidth: try int(vision, "intermediate_size", 3072),
            activation: try Activation(huggingFace: vision["hidden_act"]?.stringValue ?? "gelu_pytorch_tanh"),
            layerNormEpsilon: Float(vision["layer_norm_eps"]?.doubleValue ?? 1e-6), embeddingDimension: vWidth,
            pooling: .attentionPool)
        let tWidth = try int(text, "hidden_size", 768)
        self.text = SigLIPTextConfiguration(
            contextLength: try int(text, "max_position_embeddings", 64), vocabularySize: try int(text, "vocab_size", 32000),
            width: tWidth, layers: try int(text, "num_hidden_layers", 12), heads: try int(text, "num_attention_heads", 12),
            mlpWidth: try int(text, "intermediate_size", 3072),
            activation: try Activation(huggingFace: text["hidden_act"]?.stringValue ?? "gelu_pytorch_tanh"),
            layerNormEpsilon: Float(text["layer_norm_eps"]?.doubleValue ?? 1e-6),
            embeddingDimension: try int(text, "projection_size", tWidth))
    }

    /// Reads an open_clip SigLIP configuration (`open_clip_config.json`'s
    /// `model_cfg`, or a `ViT-B-16-SigLIP.json`): `embed_dim`, `vision_cfg`
    /// {`timm_model_name` (`vit_*_siglip_*`), `image_size`, `timm_pool`
    /// `map`}, `text_cfg` {`context_length`, `vocab_size`, `width`, `heads`,
    /// `layers`, `mlp_ratio`, `pool_type` `last`, `no_causal_mask`}. The
    /// image tower's geometry comes from the timm model name (`base`,
    /// `large`, `so400m`, `giant`; `patch16`, `patch14`, …), or, for a size
    /// no published model has, from `vision_cfg`'s `width`, `layers`,
    /// `head_width`, `mlp_ratio` and `patch_size`.
    public init(openCLIPConfigPath path: String) throws(SearchError) {
        var json = try readJSON(path)
        if let model = json["model_cfg"] { json = model }
        self.vision = try Self.openCLIPVision(json, path: path)
        guard let text = json["text_cfg"] else {
            throw SearchError(.unsupportedFormat, "\(path): not an open_clip SigLIP configuration (no text_cfg)")
        }
        guard text["pool_type"]?.stringValue == "last", text["no_causal_mask"]?.boolValue == true else {
            throw SearchError(.unsupportedFormat, "\(path): a SigLIP text tower pools at the last position without a causal mask")
        }
        func int(_ object: JSONValue, _ key: String, _ fallback: Int? = nil) throws(SearchError) -> Int {
            guard let v = object[key]?.intValue ?? fallback, v > 0 else {
                throw SearchError(.corruptData, "\(path): \(key) is missing or not a positive integer")
            }
            return v
        }
        let embed = vision.embeddingDimension
        let tWidth = try int(text, "width")
        let ratio = text["mlp_ratio"]?.doubleValue ?? 4
        self.text = SigLIPTextConfiguration(
            contextLength: try int(text, "context_length", 64), vocabularySize: try int(text, "vocab_size"),
            width: tWidth, layers: try int(text, "layers"), heads: try int(text, "heads"),
            mlpWidth: Int(Double(tWidth) * ratio),
            activation: .geluTanh, layerNormEpsilon: Float(text["norm_kwargs"]?["eps"]?.doubleValue ?? 1e-6),
            embeddingDimension: embed)
    }

    /// The timm SigLIP image trunk of an open_clip `model_cfg` (SigLIP, and
    /// NLLB-SigLIP's): `vision_cfg.timm_model_name` `vit_{size}_patch{p}_siglip_{resolution}`
    /// with MAP pooling and no extra projection, so `embed_dim` is the trunk's width.
    /// A published size (`base`, `large`, `so400m`, `giant`) fixes width,
    /// blocks, heads and MLP; another size needs `vision_cfg`'s `width`,
    /// `layers`, `head_width` (64 by default, as open_clip's), `mlp_ratio`
    /// (4) and, when the name has no `patch…` part, `patch_size`.
    static func openCLIPVision(_ model: JSONValue, path: String) throws(SearchError) -> CLIPVisionConfiguration {
        guard let vision = model["vision_cfg"], let timm = vision["timm_model_name"]?.stringValue, timm.contains("siglip")
        else {
            throw SearchError(.unsupportedFormat, "\(path): not an open_clip SigLIP configuration (vision_cfg.timm_model_name vit_*_siglip_*)")
        }
        guard vision["timm_pool"]?.stringValue ?? "map" == "map" else {
            throw SearchError(.unsupportedFormat, "\(path): timm_pool must be map")
        }
        guard vision["timm_proj"]?.stringValue ?? "none" == "none" else {
            throw SearchError(.unsupportedFormat, "\(path): timm_proj must be none (the trunk's MAP head is the embedding)")
        }
        func int(_ object: JSONValue, _ key: String, _ fallback: Int? = nil) throws(SearchError) -> Int {
            guard let v = object[key]?.intValue ?? fallback, v > 0 else {
                throw SearchError(.corruptData, "\(path): \(key) is missing or not a positive integer")
            }
            return v
        }
        // vit_{size}_patch{p}_siglip_{resolution}[...]
        let parts = timm.split(separator: "_")
        let named = parts.first(where: { $0.hasPrefix("patch") }).flatMap { Int($0.dropFirst(5)) }
        guard parts.count >= 3, let patch = named ?? vision["patch_size"]?.intValue, patch > 0 else {
            throw SearchError(.unsupportedFormat, "\(path): cannot read the patch size from timm_model_name \"\(timm)\"")
        }
        let sizes: [Substring: (width: Int, layers: Int, heads: Int, mlp: Int)] = [
            "base": (768, 12, 12, 3072), "large": (1024, 24, 16, 4096), "so400m": (1152, 27, 16, 4304),
            "giant": (1536, 40, 16, 6144),
        ]
        let size: (width: Int, layers: Int, heads: Int, mlp: Int)
        if let published = sizes[parts[1]] {
            size = published
        } else if vision["width"] != nil, vision["layers"] != nil {
            let width = try int(vision, "width"), headWidth = try int(vision, "head_width", 64)
            guard width % headWidth == 0 else {
                throw SearchError(.corruptData, "\(path): vision_cfg.width \(width) is not a multiple of head_width \(headWidth)")
            }
            let ratio = vision["mlp_ratio"]?.doubleValue ?? 4
            guard ratio > 0, ratio.isFinite else { throw SearchError(.corruptData, "\(path): vision_cfg.mlp_ratio must be positive") }
            size = (width, try int(vision, "layers"), width / headWidth, Int(Double(width) * ratio))
        } else {
            throw SearchError(
                .unsupportedFormat,
                "\(path): timm_model_name \"\(timm)\": size \(parts[1]) is not known (base, large, so400m, giant) and vision_cfg states no width and layers")
        }
        let imageSize = try int(vision, "image_size")
        let embed = try int(model, "embed_dim")
        guard embed == size.width else {
            throw SearchError(.corruptData, "\(path): embed_dim \(embed) differs from the image tower's width \(size.width)")
        }
        // timm builds its SigLIP ViTs (blocks and MAP head) with nn.GELU, the exact erf form — not the tanh
        // approximation of Hugging Face's SiglipModel; with tanh the full-size open_clip tower was 2.8e-5 off.
        return CLIPVisionConfiguration(
            imageSize: imageSize, patchSize: patch, width: size.width, layers: size.layers, heads: size.heads,
            mlpWidth: size.mlp, activation: .gelu, layerNormEpsilon: 1e-6, embeddingDimension: embed,
            pooling: .attentionPool)
    }
}

/// Where a SigLIP image tower's tensors are, by naming.
struct SigLIPVisionKeys {
    var patchWeight: String
    var patchBias: String
    var positions: String
    var postNorm: String
    var blocks: TransformerKeyMap
    var headPrefix: String
    var head: AttentionPoolingHead.Keys
    var otherTower: [String]
    var ignored: Set<String>

    /// Hugging Face `SiglipModel` (`vision_model.…`).
    static let huggingFace = SigLIPVisionKeys(
        patchWeight: "vision_model.embeddings.patch_embedding.weight",
        patchBias: "vision_model.embeddings.patch_embedding.bias",
        positions: "vision_model.embeddings.position_embedding.weight", postNorm: "vision_model.post_layernorm",
        blocks: .huggingFaceCLIP("vision_model."), headPrefix: "vision_model.head.", head: .huggingFace,
        otherTower: ["text_model."], ignored: ["logit_scale", "logit_bias", "vision_model.embeddings.position_ids"])

    /// open_clip's timm trunk (`visual.trunk.…`).
    static let timm = SigLIPVisionKeys(
        patchWeight: "visual.trunk.patch_embed.proj.weight", patchBias: "visual.trunk.patch_embed.proj.bias",
        positions: "visual.trunk.pos_embed", postNorm: "visual.trunk.norm", blocks: .timm("visual.trunk."),
        headPrefix: "visual.trunk.attn_pool.", head: .timm, otherTower: ["text."],
        ignored: ["logit_scale", "logit_bias"])
}

extension TransformerKeyMap {
    /// timm's `VisionTransformer`: `blocks.N.{norm1, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2}`.
    static func timm(_ prefix: String) -> TransformerKeyMap {
        TransformerKeyMap(
            block: { "\(prefix)blocks.\($0)." }, norm1: "norm1", fusedQKV: ("attn.qkv.weight", "attn.qkv.bias"),
            separateQKV: [], out: "attn.proj", norm2: "norm2", fc1: "mlp.fc1", fc2: "mlp.fc2")
    }
}
