import Encoders
import Foundation
import ImageDecoding
import SearchCore
import Testing

/// Layout detection and preprocessing read from the files each publisher writes.
@Suite("Model folders as published")
struct ModelFolderTests {
    static func folder(_ files: [String: String], linking weights: String? = nil) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mms-folder-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8) }
        if let weights {
            for name in ["model.safetensors", "open_clip_model.safetensors"] {
                try FileManager.default.createSymbolicLink(atPath: directory + "/" + name, withDestinationPath: weights)
            }
        }
        return directory
    }

    @Test("Hugging Face CLIP: shortest edge, centre crop, mean, std and filter from preprocessor_config.json")
    func clipPreprocessor() throws {
        let config = try String(contentsOfFile: Fixtures.path("clip_hf/config.json"), encoding: .utf8)
        let directory = try Self.folder([
            "config.json": config,
            "preprocessor_config.json": #"{"size": {"shortest_edge": 40}, "crop_size": {"height": 32, "width": 36}, "do_center_crop": true, "resample": 2, "image_mean": [0.1, 0.2, 0.3], "image_std": [0.4, 0.5, 0.6]}"#,
        ], linking: try Fixtures.path("clip_hf/model.safetensors"))
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let folder = try ModelFolder(directory: directory)
        #expect(folder.layout == .huggingFaceCLIP)
        let p = try #require(folder.preprocessor)
        #expect(p.resizeMode == .shortestSide && p.shortSide == 40 && p.cropWidth == 36 && p.cropHeight == 32)
        #expect(p.filter == .bilinear && p.mean == [0.1, 0.2, 0.3] && p.std == [0.4, 0.5, 0.6])
        let encoder = try CLIPImageEncoder(directory: directory)
        #expect(encoder.preprocessor == p)
        #expect(encoder.inputShape.width == 36 && encoder.inputShape.height == 32)
    }

    @Test("open_clip: preprocess_cfg's size, mean, std, interpolation and resize_mode; an unknown resize_mode is an error")
    func openCLIPPreprocessor() throws {
        let model = try String(contentsOfFile: Fixtures.path("clip_openai/open_clip_config.json"), encoding: .utf8)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(model.utf8)) as? [String: Any])
        func write(_ preprocess: [String: Any]) throws -> String {
            var object = json
            object["preprocess_cfg"] = preprocess
            let text = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
            return try Self.folder(["open_clip_config.json": text], linking: try Fixtures.path("clip_openai/model.safetensors"))
        }
        let squash = try write(["mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25], "interpolation": "bilinear", "resize_mode": "squash"])
        defer { try? FileManager.default.removeItem(atPath: squash) }
        let folder = try ModelFolder(directory: squash)
        #expect(folder.layout == .openCLIP)
        let p = try #require(folder.preprocessor)
        #expect(p.resizeMode == .squash && p.mean == [0.5, 0.5, 0.5] && p.std == [0.25, 0.25, 0.25] && p.filter == .bilinear)
        #expect(p.cropWidth == folder.vision?.imageSize)
        // A squashed 50×20 picture becomes the crop's size, whole.
        #expect(p.resizedSize(width: 50, height: 20) == (p.cropWidth, p.cropHeight))

        let longest = try write(["resize_mode": "longest"])
        defer { try? FileManager.default.removeItem(atPath: longest) }
        #expect(throws: SearchError.self) { _ = try ModelFolder(directory: longest) }
    }

    @Test("SigLIP: squash to size {height, width}, SiglipTokenizer framing; a folder with only a pickle names the conversion")
    func sigLIPFolder() throws {
        let folder = try ModelFolder(directory: Fixtures.path("siglip_hf"))
        #expect(folder.layout == .huggingFaceSigLIP)
        let text = try #require(try folder.textEncoder() as? SigLIPTextEncoder)
        // The folder's spiece.model and SiglipTokenizer's framing give transformers' ids, so texts embed
        // as the reference's ids do.
        #expect(text.tokenizer != nil)
        let reference = try Fixtures.json(SigLIPParityTests.Reference.self, "siglip_reference.json")
        var viaTexts = [Float](repeating: 0, count: reference.texts.count * text.dimension)
        try viaTexts.withUnsafeMutableBufferPointer { try text.embed(texts: reference.texts, into: $0) }
        let textDiff = maxAbsDifference(viaTexts, reference.text_embeddings)
        #expect(textDiff <= 1e-4, "texts through spiece.model differ from the reference ids' embeddings by \(textDiff)")
        let configuration = try SigLIPConfiguration(huggingFaceConfigPath: Fixtures.path("siglip_hf/config.json"))
        #expect(text.framing == TextFraming.sigLIP(configuration.text))
        let pickle = try Self.folder(["config.json": #"{"model_type": "siglip"}"#, "pytorch_model.bin": ""])
        defer { try? FileManager.default.removeItem(atPath: pickle) }
        #expect { _ = try ModelFolder(directory: pickle) } throws: {
            ($0 as? SearchError)?.code == .notFound && ($0 as? SearchError)?.message.contains("convert") == true
        }
        let empty = try Self.folder([:])
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect { _ = try ModelFolder(directory: empty) } throws: { ($0 as? SearchError)?.code == .notFound }
    }
}

extension ModelFolderTests {
    @Test("the README's SigLIP snippet, on the tiny SigLIP folder")
    func readmeSnippet() throws {
        let reference = try Fixtures.json(SigLIPParityTests.Reference.self, "siglip_reference.json")
        let ids = reference.token_ids[0]
        let cosine: Float = 0.25
        let folder = try ModelFolder(directory: Fixtures.path("siglip_hf"))   // layout told from its files
        let images = try folder.imageEncoder()                                 // attention-pooled, squash-resized
        let text = try SigLIPTextEncoder(
            weights: SafetensorsFile(path: folder.weightsPath),
            configuration: SigLIPConfiguration(huggingFaceConfigPath: folder.directory + "/config.json").text)
        var e = [Float](repeating: 0, count: text.dimension)
        try e.withUnsafeMutableBufferPointer { try text.embed(tokenIDs: [ids], into: $0) }   // padded to 64, as trained
        let p = text.scoring?.scores(cosines: [cosine])[0]                    // σ(cos · e^scale + bias)
        #expect(images.dimension == text.dimension)
        #expect(maxAbsDifference(e, reference.text_embeddings.prefix(text.dimension)) <= 1e-4)
        #expect(p.map { $0 > 0 && $0 < 1 } == true)
    }
}

extension ModelFolderTests {
    @Test("SigLIP 2 with only tokenizer.json (Gemma's BPE): the folder reads it, with Gemma's framing, ids as tokenizers gives them")
    func sigLIP2TokenizerJSON() throws {
        let config = try String(contentsOfFile: Fixtures.path("siglip_hf/config.json"), encoding: .utf8)
        let gemma = try String(contentsOfFile: Fixtures.path("sentencepiece/bpe_gemma_tokenizer.json"), encoding: .utf8)
        let directory = try Self.folder([
            "config.json": config, "tokenizer.json": gemma,
            "tokenizer_config.json": #"{"tokenizer_class": "GemmaTokenizer", "add_bos_token": true, "add_eos_token": true}"#,
        ], linking: try Fixtures.path("siglip_hf/model.safetensors"))
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let folder = try ModelFolder(directory: directory)
        #expect(folder.layout == .huggingFaceSigLIP)
        #expect(folder.tokenizerPath == directory + "/tokenizer.json")
        let tokenizer = try #require(try folder.subwordTokenizer() as? SentencePieceTokenizer)
        #expect(tokenizer.algorithm == .bytePairEncoding && tokenizer.byteFallback)
        let reference = try SentencePieceTests.load()
        let expected = try #require(reference.tokenizer_json["bpe_gemma_tokenizer.json"])
        for (text, expected) in zip(reference.texts, expected.cases) {
            #expect(tokenizer.encode(text) == expected.ids, "\(text.prefix(60).debugDescription)")
        }
        let text = try #require(try folder.textEncoder() as? SigLIPTextEncoder)
        #expect(text.framing.leadingIDs == [2] && text.framing.trailingIDs == [1] && text.framing.paddingID == 0)
        #expect(text.framing.lowercases && text.framing.padsToLength)
    }
}
