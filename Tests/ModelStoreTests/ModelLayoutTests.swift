import Encoders
import Foundation
import ImageDecoding
import ModelStore
import SearchCore
import Testing

/// Model repositories as the hubs publish them, served from 127.0.0.1:
/// `fetchModel` tells the layout from the configuration and fetches what
/// that layout needs, and the fetched folder loads and embeds.
@Suite("ModelStore layouts")
struct ModelLayoutTests {
    /// The committed encoder fixtures (written by scripts/fixtures/make_siglip_fixtures.py).
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("EncodersTests/Fixtures")

    /// Every file under `folder`, served as `repository` at `main`.
    static func serve(_ folder: URL, as repository: String) throws -> LocalHTTPServer {
        var files: [String: [UInt8]] = [:]
        let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey])!
        for case let url as URL in enumerator where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
            let relative = String(url.standardizedFileURL.path.dropFirst(folder.standardizedFileURL.path.count + 1))
            files["/\(repository)/resolve/main/\(relative)"] = Array(try Data(contentsOf: url))
        }
        return try LocalHTTPServer(files: files)
    }

    static func temporaryCache() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("mms-layouts-\(UUID().uuidString)")
    }

    @Test("a SigLIP repository: the layout, the files it needs (spiece.model, preprocessor_config.json), a folder that loads and embeds")
    func sigLIP() async throws {
        let server = try Self.serve(Self.fixtures.appendingPathComponent("siglip_hf"), as: "acme/siglip-tiny")
        defer { server.stop() }
        let cache = Self.temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache) }
        let store = ModelStore(cacheDirectory: cache, endpoint: server.baseURL, isOffline: false)
        let (folder, layout) = try await store.fetchModel("acme/siglip-tiny")
        #expect(layout == .huggingFaceSigLIP)
        for name in ["config.json", "model.safetensors", "spiece.model", "preprocessor_config.json", "tokenizer_config.json"] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), "\(name) fetched")
        }
        let model = try ModelFolder(directory: folder.path)
        #expect(model.layout == .huggingFaceSigLIP)
        let preprocessor = try #require(model.preprocessor)
        #expect(preprocessor.resizeMode == .squash)
        #expect(preprocessor.cropWidth == 32 && preprocessor.cropHeight == 32 && preprocessor.mean == [0.5, 0.5, 0.5])
        #expect(model.tokenizerPath?.hasSuffix("spiece.model") == true)
        let images = try model.imageEncoder()
        let picture = try RGBImage(width: 50, height: 40, pixels: (0..<(50 * 40 * 3)).map { UInt8(truncatingIfNeeded: $0 * 7) })
        let e = try images.embed(.rgb(picture))
        #expect(e.dimension == 64 && abs(e.norm - 1) < 1e-5)
        let text = try model.textEncoder()
        #expect(text.dimension == 64)

        // Offline, the cache serves the same folder without asking the server.
        let before = server.requests.count
        let offline = ModelStore(cacheDirectory: cache, endpoint: server.baseURL, isOffline: true)
        let again = try await offline.fetchModel("acme/siglip-tiny")
        #expect(again.folder == folder && again.layout == .huggingFaceSigLIP)
        #expect(server.requests.count == before)
    }

    @Test("a multilingual (M-CLIP) repository: its modelBase configuration and bundled image tower come along")
    func multilingual() async throws {
        let server = try Self.serve(Self.fixtures.appendingPathComponent("mclip_xlmr"), as: "acme/mclip-tiny")
        defer { server.stop() }
        let cache = Self.temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache) }
        let store = ModelStore(cacheDirectory: cache, endpoint: server.baseURL, isOffline: false)
        let (folder, layout) = try await store.fetchModel("acme/mclip-tiny")
        #expect(layout == .multilingualCLIP)
        for name in ["config.json", "model.safetensors", "sentencepiece.bpe.model", "xlm-roberta/config.json",
                     "image-tower/config.json", "image-tower/model.safetensors", "image-tower/preprocessor_config.json"] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), "\(name) fetched")
        }
        let model = try ModelFolder(directory: folder.path)
        #expect(model.layout == .multilingualCLIP)
        let text = try model.textEncoder()
        let images = try model.imageEncoder()
        #expect(text.dimension == images.dimension)
    }

    @Test("a configuration of another kind of model is unsupported; a repository without one is not found")
    func unknown() async throws {
        let server = try LocalHTTPServer(files: [
            "/acme/bert/resolve/main/config.json": Array(#"{"model_type": "bert"}"#.utf8),
            "/acme/xlmr-clip/resolve/main/open_clip_config.json":
                Array(#"{"model_cfg": {"text_cfg": {"hf_model_name": "xlm-roberta-base"}}}"#.utf8),
        ])
        defer { server.stop() }
        let cache = Self.temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache) }
        let store = ModelStore(cacheDirectory: cache, endpoint: server.baseURL, isOffline: false)
        await #expect { _ = try await store.fetchModel("acme/bert") } throws: { ($0 as? SearchError)?.code == .unsupportedFormat }
        await #expect { _ = try await store.fetchModel("acme/nothing") } throws: { ($0 as? SearchError)?.code == .notFound }
        // open_clip with a Hugging Face text tower other than NLLB's.
        await #expect { _ = try await store.fetchModel("acme/xlmr-clip") } throws: { ($0 as? SearchError)?.code == .unsupportedFormat }
    }

    /// The regular files under `folder`, relative, without the cache's `.sha256` notes.
    static func files(under folder: URL) -> Set<String> {
        var found: Set<String> = []
        let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey])!
        for case let url as URL in enumerator where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
            let relative = String(url.standardizedFileURL.path.dropFirst(folder.standardizedFileURL.path.count + 1))
            if !relative.hasSuffix(".sha256") { found.insert(relative) }
        }
        return found
    }

    @Test("an NLLB-SigLIP repository as open_clip publishes it: exactly its files, the text tower's subfolder, a folder that embeds both ways")
    func nllbSigLIP() async throws {
        let source = Self.fixtures.appendingPathComponent("nllb_siglip")
        let server = try Self.serve(source, as: "acme/nllb-siglip-tiny")
        defer { server.stop() }
        let cache = Self.temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache) }
        let store = ModelStore(cacheDirectory: cache, endpoint: server.baseURL, isOffline: false)
        let (folder, layout) = try await store.fetchModel("acme/nllb-siglip-tiny")
        #expect(layout == .openCLIPNLLBSigLIP)
        #expect(Self.files(under: folder) == Self.files(under: source), "every file the folder has, and nothing else")
        let model = try ModelFolder(directory: folder.path)
        #expect(model.layout == .openCLIPNLLBSigLIP)
        let images = try model.imageEncoder()
        let text = try #require(try model.textEncoder() as? NLLBTextEncoder)
        #expect(text.dimension == images.dimension && text.language == "eng_Latn")
        let e = try text.embed("a photo of a cat")
        #expect(abs(e.norm - 1) < 1e-5)

        let before = server.requests.count
        let offline = ModelStore(cacheDirectory: cache, endpoint: server.baseURL, isOffline: true)
        #expect(try await offline.fetchModel("acme/nllb-siglip-tiny").layout == .openCLIPNLLBSigLIP)
        #expect(server.requests.count == before)
    }

    @Test("NLLB-SigLIP naming its encoder and tokenizer by hub id: those come from that repository, into the model's folder")
    func nllbSigLIPHubTokenizer() async throws {
        let source = Self.fixtures.appendingPathComponent("nllb_siglip")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("open_clip_config.json"))) as! [String: Any]
        var modelConfig = json["model_cfg"] as! [String: Any]
        var textConfig = modelConfig["text_cfg"] as! [String: Any]
        textConfig["hf_model_name"] = "acme/nllb-encoder"
        textConfig["hf_tokenizer_name"] = "acme/nllb-encoder"
        modelConfig["text_cfg"] = textConfig
        json["model_cfg"] = modelConfig
        let prefix = "/acme/nllb-siglip-hub/resolve/main/", encoder = "/acme/nllb-encoder/resolve/main/"
        var files: [String: [UInt8]] = [
            prefix + "open_clip_config.json": Array(try JSONSerialization.data(withJSONObject: json)),
            prefix + "open_clip_model.safetensors": Array(try Data(contentsOf: source.appendingPathComponent("open_clip_model.safetensors"))),
            encoder + "config.json": Array(try Data(contentsOf: source.appendingPathComponent("nllb/config.json"))),
        ]
        // Without a tokenizer anywhere, the fetch says what is missing.
        let bare = try LocalHTTPServer(files: files)
        let bareCache = Self.temporaryCache()
        defer { try? FileManager.default.removeItem(at: bareCache) }
        await #expect { _ = try await ModelStore(cacheDirectory: bareCache, endpoint: bare.baseURL, isOffline: false).fetchModel("acme/nllb-siglip-hub") }
            throws: { ($0 as? SearchError)?.code == .notFound && ($0 as? SearchError)?.message.contains("tokenizer") == true }
        bare.stop()

        files[encoder + "tokenizer.json"] = Array(try Data(contentsOf: source.appendingPathComponent("nllb/tokenizer.json")))
        let server = try LocalHTTPServer(files: files)
        defer { server.stop() }
        let cache = Self.temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache) }
        let store = ModelStore(cacheDirectory: cache, endpoint: server.baseURL, isOffline: false)
        let (folder, layout) = try await store.fetchModel("acme/nllb-siglip-hub")
        #expect(layout == .openCLIPNLLBSigLIP)
        #expect(Self.files(under: folder) == [
            "open_clip_config.json", "open_clip_model.safetensors", "acme/nllb-encoder/config.json", "acme/nllb-encoder/tokenizer.json",
        ])
        let model = try ModelFolder(directory: folder.path)
        let text = try #require(try model.textEncoder() as? NLLBTextEncoder)
        // The same weights, config and tokenizer as the fixture folder: the same embedding.
        let direct = try #require(try ModelFolder(directory: source.path).textEncoder() as? NLLBTextEncoder)
        #expect(try text.embed("une photo d'un chat").values == direct.embed("une photo d'un chat").values)
    }
}
