import ImageDecoding
import SearchCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The ways image–text models are published, as ``ModelFolder`` tells them apart.
public enum ModelLayout: Sendable, Equatable {
    /// Hugging Face `CLIPModel`: `config.json` (`model_type` `clip`), `model.safetensors`,
    /// `vocab.json` + `merges.txt`, `preprocessor_config.json`.
    case huggingFaceCLIP
    /// Hugging Face `SiglipModel` (SigLIP, and SigLIP 2 at a fixed resolution):
    /// `config.json` (`model_type` `siglip`), `model.safetensors`, `spiece.model`
    /// (SigLIP) or `tokenizer.model`/`tokenizer.json` (SigLIP 2's Gemma), `preprocessor_config.json`.
    case huggingFaceSigLIP
    /// open_clip CLIP: `open_clip_config.json` (`model_cfg`, `preprocess_cfg`), `open_clip_model.safetensors`.
    case openCLIP
    /// open_clip SigLIP: as ``openCLIP`` with a timm `vit_*_siglip_*` image tower.
    case openCLIPSigLIP
    /// NLLB-SigLIP as open_clip publishes it (`nllb-clip-base-siglip`,
    /// `nllb-clip-large-siglip`): `open_clip_config.json` with a timm
    /// `vit_*_siglip_*` image tower and a `text_cfg` whose `hf_model_name` is
    /// an NLLB-200 encoder, `open_clip_model.safetensors`, and NLLB's
    /// `tokenizer.json` — at the top of the folder, or in the subfolder
    /// `hf_tokenizer_name` (or `hf_model_name`) names, beside the encoder's
    /// `config.json` when the name is not a published NLLB-200 model.
    case openCLIPNLLBSigLIP
    /// Multilingual CLIP (M-CLIP): `config.json` (`model_type` `M-CLIP`), `model.safetensors`,
    /// `sentencepiece.bpe.model` or `tokenizer.json`; its image tower, when bundled, in `image-tower/`.
    case multilingualCLIP

}

/// A model folder as the hubs publish it, resolved: which layout it is,
/// where its weights are, the image tower's geometry and preprocessing —
/// image size, resize mode, crop, mean and std read from
/// `preprocessor_config.json` (Hugging Face) or `preprocess_cfg` (open_clip),
/// never assumed — and the text tower's tokenizer file.
///
/// ```swift
/// let folder = try ModelFolder(directory: "siglip-base-patch16-224")
/// let images = try folder.imageEncoder()
/// let text = try folder.textEncoder(tokenizer: sentencePiece)
/// ```
public struct ModelFolder: Sendable {
    /// The folder.
    public let directory: String
    /// Which publication layout it holds.
    public let layout: ModelLayout
    /// The weight file.
    public let weightsPath: String
    /// The image tower's geometry (nil for a multilingual folder without a bundled image tower).
    public let vision: CLIPVisionConfiguration?
    /// How pictures become the image tower's input, as the folder states it.
    public let preprocessor: ImagePreprocessor?
    /// A multilingual folder's bundled image tower (`image-tower/`), resolved.
    public let imageTowerDirectory: String?
    /// The text tower's tokenizer file, the first the folder has of those its layout uses.
    public let tokenizerPath: String?

    /// Finds the layout of `directory` and reads its configuration.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/notFound`` when no known
    ///   layout's files are there; ``SearchCore/SearchError/Code/unsupportedFormat``
    ///   or ``SearchCore/SearchError/Code/corruptData`` from the configuration files.
    public init(directory: String) throws(SearchError) {
        func exists(_ name: String) -> Bool { access(directory + "/" + name, R_OK) == 0 }
        self.directory = directory
        if exists("open_clip_config.json") {
            let path = directory + "/open_clip_config.json"
            let json = try readJSON(path)
            let model = json["model_cfg"] ?? json
            let candidates = ["open_clip_model.safetensors", "model.safetensors"]
            guard let weights = candidates.first(where: exists) else {
                throw SearchError(.notFound, "\(directory) has open_clip_config.json but no \(candidates.joined(separator: " or "))")
            }
            weightsPath = directory + "/" + weights
            let vision: CLIPVisionConfiguration
            let text = model["text_cfg"]
            if let name = text?["hf_model_name"]?.stringValue {
                // open_clip's HF text towers: NLLB-200's encoder is the one this build has.
                guard Self.isNLLB(name) || exists(name + "/config.json") else {
                    throw SearchError(
                        .unsupportedFormat,
                        "\(path): text_cfg.hf_model_name \"\(name)\" is not an NLLB-200 encoder (the only Hugging Face text tower of open_clip's that loads)")
                }
                layout = .openCLIPNLLBSigLIP
                vision = try SigLIPConfiguration.openCLIPVision(model, path: path)
                let names = [text?["hf_tokenizer_name"]?.stringValue, name].compactMap { $0 }
                tokenizerPath = (["tokenizer.json"] + names.map { $0 + "/tokenizer.json" }).first(where: exists)
                    .map { directory + "/" + $0 }
            } else if model["vision_cfg"]?["timm_model_name"]?.stringValue?.contains("siglip") == true {
                layout = .openCLIPSigLIP
                vision = try SigLIPConfiguration(openCLIPConfigPath: path).vision
                tokenizerPath = ["tokenizer.json", "spiece.model", "merges.txt"].first(where: exists).map { directory + "/" + $0 }
            } else {
                layout = .openCLIP
                vision = try CLIPConfiguration(openCLIPConfigPath: path).vision
                tokenizerPath = ["tokenizer.json", "spiece.model", "merges.txt"].first(where: exists).map { directory + "/" + $0 }
            }
            self.vision = vision
            preprocessor = try Self.openCLIPPreprocessor(
                json["preprocess_cfg"], path: path, imageSize: vision.imageSize, squashByDefault: layout != .openCLIP)
            imageTowerDirectory = nil
            return
        }
        guard exists("config.json") else {
            throw SearchError(
                .notFound,
                "\(directory) holds no model: neither config.json (Hugging Face CLIP or SigLIP, M-CLIP) nor open_clip_config.json")
        }
        let configPath = directory + "/config.json"
        let type = try readJSON(configPath)["model_type"]?.stringValue ?? "clip"
        guard exists("model.safetensors") else {
            let pickle = exists("pytorch_model.bin") ? " (it has pytorch_model.bin: convert it to safetensors, keys unchanged)" : ""
            throw SearchError(.notFound, "\(directory) has config.json but no model.safetensors\(pickle)")
        }
        weightsPath = directory + "/model.safetensors"
        switch type {
        case "clip":
            layout = .huggingFaceCLIP
            let vision = try CLIPConfiguration(huggingFaceConfigPath: configPath).vision
            self.vision = vision
            preprocessor = try Self.huggingFacePreprocessor(directory: directory, imageSize: vision.imageSize, sigLIP: false)
            imageTowerDirectory = nil
            tokenizerPath = ["merges.txt", "tokenizer.json"].first(where: exists).map { directory + "/" + $0 }
        case "siglip", "siglip2":
            layout = .huggingFaceSigLIP
            let vision = try SigLIPConfiguration(huggingFaceConfigPath: configPath).vision
            self.vision = vision
            preprocessor = try Self.huggingFacePreprocessor(directory: directory, imageSize: vision.imageSize, sigLIP: true)
            imageTowerDirectory = nil
            tokenizerPath = ["spiece.model", "tokenizer.model", "tokenizer.json"].first(where: exists).map { directory + "/" + $0 }
        case "M-CLIP":
            layout = .multilingualCLIP
            tokenizerPath = ["sentencepiece.bpe.model", "tokenizer.json"].first(where: exists).map { directory + "/" + $0 }
            if exists("image-tower") {
                let tower = try ModelFolder(directory: directory + "/image-tower")
                guard tower.layout != .multilingualCLIP else {
                    throw SearchError(.unsupportedFormat, "\(directory)/image-tower is itself a multilingual folder")
                }
                imageTowerDirectory = tower.directory
                vision = tower.vision
                preprocessor = tower.preprocessor
            } else {
                imageTowerDirectory = nil
                vision = nil
                preprocessor = nil
            }
        default:
            throw SearchError(.unsupportedFormat, "\(configPath): model_type \"\(type)\" is not CLIP, SigLIP or M-CLIP")
        }
    }

    /// The image tower, with the folder's preprocessing.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/notFound`` for a multilingual
    ///   folder without a bundled image tower; the loader's errors.
    public func imageEncoder(precision: WeightPrecision = .float32) throws(SearchError) -> CLIPImageEncoder {
        if let imageTowerDirectory {
            return try ModelFolder(directory: imageTowerDirectory).imageEncoder(precision: precision)
        }
        guard let vision, let preprocessor else {
            throw SearchError(.notFound, "\(directory) holds a text tower only (no image-tower/ folder)")
        }
        var encoder = try CLIPImageEncoder(
            weights: SafetensorsFile(path: weightsPath), configuration: vision, precision: precision)
        encoder.preprocessor = preprocessor
        return encoder
    }

    /// The SentencePiece tokenizer of a SigLIP or multilingual folder:
    /// `spiece.model` / `tokenizer.model`, or a Unigram `tokenizer.json`;
    /// M-CLIP's `sentencepiece.bpe.model` with XLM-R's id shift
    /// (``FairseqOffsetTokenizer``). Nil for CLIP layouts or when the folder has none.
    /// NLLB-SigLIP's is NLLB's `tokenizer.json` (BPE with the language codes as added tokens).
    public func subwordTokenizer() throws(SearchError) -> (any SubwordTokenizer)? {
        guard let tokenizerPath, layout != .huggingFaceCLIP, layout != .openCLIP else { return nil }
        if tokenizerPath.hasSuffix(".json") { return try SentencePieceTokenizer(tokenizerJSONAt: tokenizerPath) }
        let model = try SentencePieceTokenizer(modelAt: tokenizerPath)
        return layout == .multilingualCLIP ? FairseqOffsetTokenizer(model) : model
    }

    /// The text tower: CLIP's with the BPE merges (`mergesPath`, else the
    /// folder's `merges.txt`), SigLIP's or M-CLIP's with `tokenizer` (by
    /// default the folder's own, ``subwordTokenizer()``).
    public func textEncoder(
        tokenizer: (any SubwordTokenizer)? = nil, mergesPath: String? = nil, precision: WeightPrecision = .float32
    ) throws(SearchError) -> any TextEncoder {
        var chosen = tokenizer
        if chosen == nil { chosen = try subwordTokenizer() }
        switch layout {
        case .huggingFaceCLIP, .openCLIP:
            guard let merges = mergesPath ?? (tokenizerPath?.hasSuffix("merges.txt") == true ? tokenizerPath : nil) else {
                throw SearchError(.notFound, "\(directory) has no merges.txt for CLIP's tokenizer; pass mergesPath")
            }
            return try CLIPTextEncoder(directory: directory, mergesPath: merges, precision: precision)
        case .huggingFaceSigLIP, .openCLIPSigLIP:
            let configuration = layout == .huggingFaceSigLIP
                ? try SigLIPConfiguration(huggingFaceConfigPath: directory + "/config.json").text
                : try SigLIPConfiguration(openCLIPConfigPath: directory + "/open_clip_config.json").text
            return try SigLIPTextEncoder(
                weights: SafetensorsFile(path: weightsPath), configuration: configuration,
                tokenizer: chosen,
                framing: try sigLIPFraming(configuration), precision: precision)
        case .multilingualCLIP:
            return try MultilingualCLIPTextEncoder(
                directory: directory, tokenizer: chosen, precision: precision)
        case .openCLIPNLLBSigLIP:
            guard let chosen else {
                throw SearchError(
                    .notFound,
                    "\(directory) has no NLLB tokenizer.json (at the top or in the subfolder text_cfg.hf_tokenizer_name names); NLLB's sentencepiece.bpe.model lacks the language codes")
            }
            guard let nllb = chosen as? SentencePieceTokenizer else {
                throw SearchError(.invalidArgument, "NLLB-SigLIP's text tower needs a SentencePieceTokenizer (it looks up language codes)")
            }
            let (configuration, dimension) = try nllbConfiguration()
            return try NLLBTextEncoder(
                weights: SafetensorsFile(path: weightsPath), configuration: configuration, dimension: dimension,
                tokenizer: nllb, precision: precision)
        }
    }

    /// Whether an open_clip `hf_model_name` names an NLLB-200 model (`facebook/nllb-200-…`).
    static func isNLLB(_ name: String) -> Bool {
        (name.split(separator: "/").last.map(String.init) ?? name).lowercased().hasPrefix("nllb")
    }

    /// An NLLB-SigLIP folder's text tower geometry and shared embedding width:
    /// the encoder's `config.json` in the subfolder `hf_model_name` names when
    /// the folder has one, else the published NLLB-200 model of that name.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/unsupportedFormat`` for another
    ///   layout, or a name that is neither a subfolder nor a published model;
    ///   the config reader's errors.
    public func nllbConfiguration() throws(SearchError) -> (encoder: NLLBConfiguration, dimension: Int) {
        let path = directory + "/open_clip_config.json"
        guard layout == .openCLIPNLLBSigLIP else {
            throw SearchError(.unsupportedFormat, "\(directory) is not an NLLB-SigLIP folder (\(layout))")
        }
        let json = try readJSON(path)
        let model = json["model_cfg"] ?? json
        guard let name = model["text_cfg"]?["hf_model_name"]?.stringValue else {
            throw SearchError(.corruptData, "\(path): text_cfg.hf_model_name is missing")
        }
        guard let dimension = model["embed_dim"]?.intValue, dimension > 0 else {
            throw SearchError(.corruptData, "\(path): embed_dim is missing or not a positive integer")
        }
        for key in ["hf_proj_type", "hf_pooler_type"] {
            let expected = key == "hf_proj_type" ? "linear" : "cls_pooler"
            if let value = model["text_cfg"]?[key]?.stringValue, value != expected {
                throw SearchError(.unsupportedFormat, "\(path): text_cfg.\(key) \"\(value)\" is not supported (\(expected), as NLLB-SigLIP)")
            }
        }
        let local = directory + "/" + name + "/config.json"
        if access(local, R_OK) == 0 { return (try NLLBConfiguration(huggingFaceConfigPath: local), dimension) }
        guard let published = NLLBConfiguration.published(name) else {
            throw SearchError(
                .unsupportedFormat,
                "\(path): text_cfg.hf_model_name \"\(name)\" is not a published NLLB-200 encoder this build knows (nllb-200-distilled-600M, nllb-200-distilled-1.3B) and \(local) does not exist")
        }
        return (published, dimension)
    }

    /// SigLIP's framing from `tokenizer_config.json`: `SiglipTokenizer`
    /// (`</s>` appended, padded with it, `do_lower_case`, canonical text),
    /// or Gemma's (SigLIP 2: `<bos>` (2) when `add_bos_token`, `<eos>` (1)
    /// when `add_eos_token`, `<pad>` (0), lowercased as SigLIP 2 was trained).
    func sigLIPFraming(_ configuration: SigLIPTextConfiguration) throws(SearchError) -> TextFraming {
        let path = directory + "/tokenizer_config.json"
        guard access(path, R_OK) == 0 else { return .sigLIP(configuration) }
        let json = try readJSON(path)
        let kind = json["tokenizer_class"]?.stringValue ?? "SiglipTokenizer"
        if kind.hasPrefix("Gemma") {
            return TextFraming(
                leadingIDs: json["add_bos_token"]?.boolValue ?? true ? [2] : [],
                trailingIDs: json["add_eos_token"]?.boolValue ?? false ? [1] : [], paddingID: 0,
                length: configuration.contextLength, padsToLength: true, lowercases: true)
        }
        var framing = TextFraming.sigLIP(configuration)
        framing.lowercases = json["do_lower_case"]?.boolValue ?? true
        return framing
    }

    static func filter(pillow code: Int?, name: String?, path: String) throws(SearchError) -> ResamplingFilter {
        switch (code, name) {
        case (3?, _), (nil, "bicubic"?), (nil, nil): return .bicubic
        case (2?, _), (nil, "bilinear"?): return .bilinear
        case (1?, _), (nil, "lanczos"?): return .lanczos
        default:
            throw SearchError(
                .unsupportedFormat, "\(path): resampling \(code.map(String.init) ?? name ?? "") is not supported (bicubic, bilinear, lanczos)")
        }
    }

    /// Reads `preprocessor_config.json` (`CLIPImageProcessor`, `SiglipImageProcessor`);
    /// the model's defaults when the folder has none.
    static func huggingFacePreprocessor(directory: String, imageSize: Int, sigLIP: Bool) throws(SearchError) -> ImagePreprocessor {
        let path = directory + "/preprocessor_config.json"
        let clip = ImagePreprocessor.clip
        guard access(path, R_OK) == 0 else {
            var p = ImagePreprocessor(
                shortSide: imageSize, cropWidth: imageSize, cropHeight: imageSize,
                mean: sigLIP ? [0.5, 0.5, 0.5] : clip.mean, std: sigLIP ? [0.5, 0.5, 0.5] : clip.std)
            if sigLIP { p.resizeMode = .squash }
            return p
        }
        let json = try readJSON(path)
        func floats(_ key: String, _ fallback: [Float]) throws(SearchError) -> [Float] {
            guard let value = json[key] else { return fallback }
            guard let array = value.arrayValue, array.count == 3 else {
                throw SearchError(.corruptData, "\(path): \(key) must be three numbers")
            }
            var result: [Float] = []
            for element in array {
                guard let v = element.doubleValue else { throw SearchError(.corruptData, "\(path): \(key) must be three numbers") }
                result.append(Float(v))
            }
            return result
        }
        func size(_ value: JSONValue?) -> (width: Int, height: Int, shortest: Int?)? {
            guard let value else { return nil }
            if let n = value.intValue { return (n, n, n) }
            if let n = value["shortest_edge"]?.intValue { return (n, n, n) }
            if let h = value["height"]?.intValue, let w = value["width"]?.intValue { return (w, h, nil) }
            return nil
        }
        guard json["do_resize"]?.boolValue ?? true else {
            throw SearchError(.unsupportedFormat, "\(path): do_resize false is not supported")
        }
        let resize: (width: Int, height: Int, shortest: Int?)
        if let value = json["size"] {
            guard let read = size(value) else {
                throw SearchError(.corruptData, "\(path): size is not a number, {shortest_edge} or {height, width}")
            }
            resize = read
        } else {
            resize = (imageSize, imageSize, sigLIP ? nil : imageSize)
        }
        let mean = try floats("image_mean", sigLIP ? [0.5, 0.5, 0.5] : clip.mean)
        let std = try floats("image_std", sigLIP ? [0.5, 0.5, 0.5] : clip.std)
        let filter = try filter(pillow: json["resample"]?.intValue, name: nil, path: path)
        var p: ImagePreprocessor
        if let shortest = resize.shortest {
            let cropped = json["do_center_crop"]?.boolValue ?? true
            let crop = (cropped ? size(json["crop_size"]) : nil) ?? (shortest, shortest, nil)
            p = ImagePreprocessor(
                shortSide: shortest, cropWidth: crop.width, cropHeight: crop.height, mean: mean, std: std, filter: filter)
        } else {
            p = ImagePreprocessor(
                shortSide: min(resize.width, resize.height), cropWidth: resize.width, cropHeight: resize.height, mean: mean,
                std: std, filter: filter)
            p.resizeMode = .squash
        }
        return p
    }

    /// Reads open_clip's `preprocess_cfg` (`size`, `mean`, `std`, `interpolation`, `resize_mode`).
    static func openCLIPPreprocessor(
        _ json: JSONValue?, path: String, imageSize: Int, squashByDefault: Bool
    ) throws(SearchError) -> ImagePreprocessor {
        let clip = ImagePreprocessor.clip
        let json = json ?? .object([])
        func floats(_ key: String, _ fallback: [Float]) throws(SearchError) -> [Float] {
            guard let value = json[key] else { return fallback }
            if let v = value.doubleValue { return [Float](repeating: Float(v), count: 3) }
            guard let array = value.arrayValue, array.count == 3, array.allSatisfy({ $0.doubleValue != nil }) else {
                throw SearchError(.corruptData, "\(path): preprocess_cfg.\(key) must be a number or three")
            }
            return array.map { Float($0.doubleValue!) }
        }
        var width = imageSize, height = imageSize
        if let n = json["size"]?.intValue {
            (width, height) = (n, n)
        } else if let pair = json["size"]?.arrayValue, pair.count == 2, let h = pair[0].intValue, let w = pair[1].intValue {
            (width, height) = (w, h)
        }
        let mode = json["resize_mode"]?.stringValue ?? (squashByDefault ? "squash" : "shortest")
        let filter = try filter(pillow: nil, name: json["interpolation"]?.stringValue, path: path)
        var p = ImagePreprocessor(
            shortSide: min(width, height), cropWidth: width, cropHeight: height, mean: try floats("mean", clip.mean),
            std: try floats("std", clip.std), filter: filter)
        switch mode {
        case "shortest": break
        case "squash": p.resizeMode = .squash
        default: throw SearchError(.unsupportedFormat, "\(path): resize_mode \"\(mode)\" is not supported (shortest, squash)")
        }
        return p
    }
}
