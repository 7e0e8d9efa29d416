import Encoders
import Foundation
import ImageDecoding
import SearchCore
import Testing

/// NLLB-SigLIP's text tower against open_clip, and NLLB's tokenizer against
/// transformers', on the tiny model of `scripts/fixtures/make_nllb_fixtures.py`.
@Suite("NLLB-SigLIP (tiny seeded model)")
struct NLLBTests {
    struct Case: Decodable {
        var language: String
        var text: String
        var ids: [Int32]
    }

    struct Reference: Decodable {
        var cases: [Case]
        var dimension: Int
        var text_embeddings: [Float]
        var images: SigLIPParityTests.Reference.Pixels
        var image_embeddings: [Float]
        var picture: String
        var picture_pixels: [Float]
        var picture_embedding: [Float]
        var scores: [Float]
    }

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static func load() throws -> (Reference, NLLBTextEncoder) {
        let reference = try Fixtures.json(Reference.self, "nllb_siglip_reference.json")
        let folder = try Fixtures.path("nllb_siglip")
        let tokenizer = try SentencePieceTokenizer(tokenizerJSONAt: folder + "/nllb/tokenizer.json")
        let encoder = try NLLBTextEncoder(
            weights: SafetensorsFile(path: folder + "/open_clip_model.safetensors"),
            configuration: NLLBConfiguration(huggingFaceConfigPath: folder + "/nllb/config.json"),
            dimension: reference.dimension, tokenizer: tokenizer)
        return (reference, encoder)
    }

    @Test("NLLB's tokenizer.json (BPE, fairseq ids, language codes): [code] … </s> as NllbTokenizer gives them")
    func tokenizer() throws {
        let (reference, loaded) = try Self.load()
        var encoder = loaded
        #expect(encoder.language == "eng_Latn")
        #expect(encoder.tokenizer?.algorithm == .bytePairEncoding)
        for c in reference.cases {
            try encoder.setLanguage(c.language)
            let tokenizer = try #require(encoder.tokenizer)
            #expect(encoder.framing.frame(tokenizer.encode(c.text)) == c.ids, "\(c.language) \(c.text)")
        }
        #expect(throws: SearchError.self) { try encoder.setLanguage("xx_Nope") }
    }

    @Test("text tower (M-2M-100 encoder, language-code pooling, linear projection) within 1e-4 of open_clip")
    func textTower() throws {
        let (reference, loaded) = try Self.load()
        var encoder = loaded
        let d = encoder.dimension
        #expect(d == reference.dimension)
        var out = [Float](repeating: 0, count: reference.cases.count * d)
        try out.withUnsafeMutableBufferPointer { try encoder.embed(tokenIDs: reference.cases.map(\.ids), into: $0) }
        let diff = maxAbsDifference(out, reference.text_embeddings)
        #expect(diff <= 1e-4, "NLLB text embeddings differ by \(diff)")
        // Through texts: the framing and tokenizer give the same vectors, per language.
        for language in Set(reference.cases.map(\.language)) {
            try encoder.setLanguage(language)
            let indices = reference.cases.indices.filter { reference.cases[$0].language == language }
            var viaTexts = [Float](repeating: 0, count: indices.count * d)
            try viaTexts.withUnsafeMutableBufferPointer {
                try encoder.embed(texts: indices.map { reference.cases[$0].text }, into: $0)
            }
            let expected = indices.flatMap { out[($0 * d)..<(($0 + 1) * d)] }
            #expect(maxAbsDifference(viaTexts, expected) <= 1e-6, "\(language) through texts")
        }
        // The language code is pooled: the same text in another language's frame embeds differently.
        #expect(maxAbsDifference(Array(out[0..<d]), Array(out[(4 * d)..<(5 * d)])) > 1e-3)
        #expect(throws: SearchError.self) {
            try out.withUnsafeMutableBufferPointer { try encoder.embed(tokenIDs: [[1, 5, 2]], into: UnsafeMutableBufferPointer(rebasing: $0[0..<d])) }
        }
        print("NLLB-SigLIP parity (tiny): text max |Δ| \(diff)")
    }

    @Test("loading is strict: an M2M-100 config with another model_type, or a missing projection, is an error")
    func strictLoading() throws {
        let folder = try Fixtures.path("nllb_siglip")
        #expect(throws: SearchError.self) {
            _ = try NLLBConfiguration(huggingFaceConfigPath: Fixtures.path("siglip_hf/config.json"))
        }
        let configuration = try NLLBConfiguration(huggingFaceConfigPath: folder + "/nllb/config.json")
        #expect(configuration.activation == .relu && configuration.scalesEmbeddings && configuration.paddingID == 1)
        // A wrong output dimension leaves text.proj.weight's shape unmatched.
        #expect(throws: SearchError.self) {
            _ = try NLLBTextEncoder(
                weights: SafetensorsFile(path: folder + "/open_clip_model.safetensors"), configuration: configuration,
                dimension: 32)
        }
        #expect(NLLBConfiguration.published("facebook/nllb-200-distilled-600M") == .distilled600M)
        #expect(NLLBConfiguration.published("facebook/nllb-200-distilled-1.3B")?.layers == 24)
    }

    @Test("the folder as open_clip publishes it: detected, both towers and preprocess_cfg read; image tower within 1e-4 of open_clip")
    func folder() throws {
        let reference = try Fixtures.json(Reference.self, "nllb_siglip_reference.json")
        let folder = try ModelFolder(directory: Fixtures.path("nllb_siglip"))
        #expect(folder.layout == .openCLIPNLLBSigLIP)
        #expect(folder.tokenizerPath?.hasSuffix("nllb/tokenizer.json") == true)
        let vision = try #require(folder.vision)
        #expect(vision.imageSize == 32 && vision.patchSize == 8 && vision.width == 64 && vision.layers == 2)
        #expect(vision.heads == 4 && vision.mlpWidth == 128 && vision.pooling == .attentionPool)
        let preprocessor = try #require(folder.preprocessor)
        #expect(preprocessor.resizeMode == .squash && preprocessor.cropWidth == 32 && preprocessor.mean == [0.5, 0.5, 0.5])

        var images = try folder.imageEncoder()
        images.batching.maximumBatchSize = 2
        let d = images.dimension
        #expect(d == reference.dimension)
        var imageOut = [Float](repeating: 0, count: reference.images.shape[0] * d)
        try imageOut.withUnsafeMutableBufferPointer { try images.embed(images: SigLIPParityTests.images(reference.images), into: $0) }
        let imageDiff = maxAbsDifference(imageOut, reference.image_embeddings)
        #expect(imageDiff <= 1e-4, "NLLB-SigLIP image embeddings differ by \(imageDiff)")

        // A picture file through the folder's preprocessing (preprocess_cfg: squash, bicubic) and open_clip's transform.
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.repositoryRoot + "/" + reference.picture)))
        var pixels = [Float](repeating: 0, count: reference.picture_pixels.count)
        try pixels.withUnsafeMutableBufferPointer { try images.preprocess(.encoded(bytes), into: $0) }
        let pixelDiff = maxAbsDifference(pixels, reference.picture_pixels)
        #expect(pixelDiff <= 1e-5, "\(reference.picture) preprocessed differs from open_clip's transform by \(pixelDiff)")
        let picture = try images.embed(.encoded(bytes))
        let pictureDiff = maxAbsDifference(picture.values, reference.picture_embedding)
        #expect(pictureDiff <= 1e-4, "\(reference.picture)'s embedding differs by \(pictureDiff)")

        // The text tower from the same folder, through its tokenizer.json, and the cross-modal scores.
        let text = try #require(try folder.textEncoder() as? NLLBTextEncoder)
        #expect(text.language == "eng_Latn")
        var textOut = [Float](repeating: 0, count: reference.cases.count * d)
        try textOut.withUnsafeMutableBufferPointer { try text.embed(tokenIDs: reference.cases.map(\.ids), into: $0) }
        #expect(maxAbsDifference(textOut, reference.text_embeddings) <= 1e-4)
        let scoring = try #require(text.scoring)
        guard case .sigmoid = scoring else {
            Issue.record("NLLB-SigLIP's scoring should be a sigmoid, not \(scoring)")
            return
        }
        var cosines: [Float] = []
        for i in 0..<reference.images.shape[0] {
            for j in reference.cases.indices {
                cosines.append(zip(imageOut[(i * d)..<((i + 1) * d)], textOut[(j * d)..<((j + 1) * d)]).reduce(0) { $0 + $1.0 * $1.1 })
            }
        }
        let scores = scoring.scores(cosines: cosines)
        let scoreDiff = maxAbsDifference(scores, reference.scores)
        #expect(scores.count == reference.scores.count)
        #expect(scoreDiff <= 1e-4, "sigmoid scores differ from open_clip's by \(scoreDiff)")
        // Random towers give small cosines, so the scores sit near σ(bias) (0.077–0.095): still not one value.
        #expect(reference.scores.max()! - reference.scores.min()! > 0.01, "the fixture's scores should spread")
        print("NLLB-SigLIP parity (tiny, folder): image max |Δ| \(imageDiff), picture \(pictureDiff) (pixels \(pixelDiff)), scores \(scoreDiff)")
    }

    @Test("partial or mismatched NLLB-SigLIP folders are typed errors naming what is wrong")
    func partialFolders() throws {
        let source = try Fixtures.path("nllb_siglip")
        let fm = FileManager.default
        func copy(_ edit: (String) throws -> Void) throws -> String {
            let directory = fm.temporaryDirectory.appendingPathComponent("mms-nllb-\(UUID().uuidString)").path
            try fm.createDirectory(atPath: directory + "/nllb", withIntermediateDirectories: true)
            for name in ["open_clip_config.json", "nllb/config.json", "nllb/tokenizer.json", "nllb/tokenizer_config.json"]
            where fm.fileExists(atPath: source + "/" + name) {
                try fm.copyItem(atPath: source + "/" + name, toPath: directory + "/" + name)
            }
            try fm.createSymbolicLink(atPath: directory + "/open_clip_model.safetensors", withDestinationPath: source + "/open_clip_model.safetensors")
            try edit(directory)
            return directory
        }
        func code(_ body: () throws -> Void) -> SearchError.Code? {
            do { try body() } catch { return (error as? SearchError)?.code }
            return nil
        }
        func config(_ directory: String, _ change: (inout [String: Any]) -> Void) throws {
            let path = directory + "/open_clip_config.json"
            var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
            var model = json["model_cfg"] as! [String: Any]
            change(&model)
            json["model_cfg"] = model
            try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        }
        var made: [String] = []
        defer { for d in made { try? fm.removeItem(atPath: d) } }

        // No weights.
        let noWeights = try copy { try fm.removeItem(atPath: $0 + "/open_clip_model.safetensors") }
        made.append(noWeights)
        #expect(code { _ = try ModelFolder(directory: noWeights) } == .notFound)
        // No tokenizer: the folder opens (images work), the text tower says what is missing.
        let noTokenizer = try copy { try fm.removeItem(atPath: $0 + "/nllb/tokenizer.json") }
        made.append(noTokenizer)
        let partial = try ModelFolder(directory: noTokenizer)
        #expect(partial.layout == .openCLIPNLLBSigLIP && partial.tokenizerPath == nil)
        _ = try partial.imageEncoder()
        #expect(code { _ = try partial.textEncoder() } == .notFound)
        // No encoder config and a name that is not a published NLLB-200 model.
        let noConfig = try copy { try fm.removeItem(atPath: $0 + "/nllb/config.json") }
        made.append(noConfig)
        #expect(code { _ = try ModelFolder(directory: noConfig).textEncoder() } == .unsupportedFormat)
        // Another Hugging Face text tower than NLLB's.
        let xlmr = try copy { d in
            try config(d) { m in m["text_cfg"] = ["hf_model_name": "xlm-roberta-base", "hf_proj_type": "mlp"] }
        }
        made.append(xlmr)
        #expect(code { _ = try ModelFolder(directory: xlmr) } == .unsupportedFormat)
        // A published NLLB-200 name over the tiny weights: shapes disagree.
        let published = try copy { d in
            try fm.removeItem(atPath: d + "/nllb/config.json")
            try config(d) { m in
                m["text_cfg"] = ["hf_model_name": "facebook/nllb-200-distilled-600M", "hf_tokenizer_name": "nllb",
                                 "hf_proj_type": "linear", "hf_pooler_type": "cls_pooler"]
            }
        }
        made.append(published)
        let mismatched = try ModelFolder(directory: published)
        #expect(try mismatched.nllbConfiguration().encoder == .distilled600M)
        #expect(code { _ = try mismatched.textEncoder() } == .dimensionMismatch)
        // embed_dim that differs from the trunk's width, and an unknown trunk size without its geometry.
        let wrongDimension = try copy { d in try config(d) { m in m["embed_dim"] = 48 } }
        made.append(wrongDimension)
        #expect(code { _ = try ModelFolder(directory: wrongDimension) } == .corruptData)
        let unknownTrunk = try copy { d in
            try config(d) { m in
                var v = m["vision_cfg"] as! [String: Any]
                v.removeValue(forKey: "width")
                v.removeValue(forKey: "layers")
                m["vision_cfg"] = v
            }
        }
        made.append(unknownTrunk)
        #expect(code { _ = try ModelFolder(directory: unknownTrunk) } == .unsupportedFormat)
    }
}
