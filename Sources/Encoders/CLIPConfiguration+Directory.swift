import SearchCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a CLIP model folder keeps its configuration and weights.
///
/// A Hugging Face `CLIPModel` folder has `config.json` and
/// `model.safetensors`; an open_clip folder (as on the hub) has
/// `open_clip_config.json` and `open_clip_model.safetensors`.
public struct CLIPModelFiles: Sendable, Equatable {
    /// The configuration, read from whichever file the folder has.
    public var configuration: CLIPConfiguration
    /// The weight file's path.
    public var weightsPath: String

    /// Finds and reads the files in `directory`.
    ///
    /// - Parameter quickGELU: for open_clip folders, overrides `quick_gelu`
    ///   (OpenAI's own weights need QuickGELU).
    /// - Throws: ``SearchCore/SearchError/Code/notFound`` when neither layout is there.
    public init(directory: String, quickGELU: Bool? = nil) throws(SearchError) {
        func exists(_ name: String) -> Bool { access(directory + "/" + name, R_OK) == 0 }
        if exists("config.json"), exists("model.safetensors") {
            configuration = try CLIPConfiguration(huggingFaceConfigPath: directory + "/config.json")
            weightsPath = directory + "/model.safetensors"
        } else if exists("open_clip_config.json") {
            configuration = try CLIPConfiguration(
                openCLIPConfigPath: directory + "/open_clip_config.json", quickGELU: quickGELU)
            let candidates = ["open_clip_model.safetensors", "model.safetensors"]
            guard let weights = candidates.first(where: exists) else {
                throw SearchError(.notFound, "\(directory) has open_clip_config.json but no \(candidates.joined(separator: " or "))")
            }
            weightsPath = directory + "/" + weights
        } else {
            throw SearchError(
                .notFound,
                "\(directory) holds neither a Hugging Face CLIP model (config.json, model.safetensors) nor an open_clip one (open_clip_config.json, open_clip_model.safetensors)")
        }
    }
}

extension CLIPImageEncoder {
    /// Loads the image tower of the CLIP or SigLIP model in `directory` (see
    /// ``ModelFolder``), with the preprocessing the folder states.
    ///
    /// - Parameter quickGELU: for open_clip CLIP folders, overrides `quick_gelu`.
    public init(directory: String, quickGELU: Bool? = nil, precision: WeightPrecision = .float32) throws(SearchError) {
        let folder = try ModelFolder(directory: directory)
        guard let quickGELU, folder.layout == .openCLIP else {
            self = try folder.imageEncoder(precision: precision)
            return
        }
        let files = try CLIPModelFiles(directory: directory, quickGELU: quickGELU)
        try self.init(
            weights: SafetensorsFile(path: files.weightsPath), configuration: files.configuration.vision,
            precision: precision)
        if let preprocessor = folder.preprocessor { self.preprocessor = preprocessor }
    }
}

extension CLIPTextEncoder {
    /// Loads the text tower of the CLIP model in `directory` (see ``CLIPModelFiles``)
    /// with the BPE merges at `mergesPath`.
    public init(
        directory: String, mergesPath: String, quickGELU: Bool? = nil, precision: WeightPrecision = .float32
    ) throws(SearchError) {
        let files = try CLIPModelFiles(directory: directory, quickGELU: quickGELU)
        let tokenizer = try CLIPTokenizer(mergesPath: mergesPath, contextLength: files.configuration.text.contextLength)
        try self.init(
            weights: SafetensorsFile(path: files.weightsPath), configuration: files.configuration.text, tokenizer: tokenizer,
            precision: precision)
    }
}
