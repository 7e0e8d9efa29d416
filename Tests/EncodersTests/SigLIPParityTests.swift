import Encoders
import Foundation
import SearchCore
import Testing

/// A tiny seeded SigLIP saved by transformers' `SiglipModel.save_pretrained`
/// (F32), against the library that made it (`scripts/fixtures/make_siglip_fixtures.py`).
/// The only differences are float summation order and our `tanh`/`exp`
/// approximations: 1e-4 on unit vectors is far above them.
@Suite("SigLIP parity (tiny seeded model)")
struct SigLIPParityTests {
    struct Reference: Decodable {
        struct Pixels: Decodable {
            var shape: [Int]
            var pixels: [Float]
        }
        var texts: [String]
        var token_ids: [[Int32]]
        var images: Pixels
        var image_embeddings: [Float]
        var text_embeddings: [Float]
        var logits_per_text: [Float]
        var larger_image: Pixels
        var larger_image_embedding: [Float]
    }

    static let tolerance: Float = 1e-4

    static func images(_ p: Reference.Pixels) -> [ImageInput] {
        let (n, h, w) = (p.shape[0], p.shape[2], p.shape[3])
        let size = 3 * h * w
        return (0..<n).map { .preprocessed(Array(p.pixels[(size * $0)..<(size * ($0 + 1))]), width: w, height: h) }
    }

    static func load() throws -> (Reference, SigLIPConfiguration, String) {
        let reference = try Fixtures.json(Reference.self, "siglip_reference.json")
        let configuration = try SigLIPConfiguration(huggingFaceConfigPath: Fixtures.path("siglip_hf/config.json"))
        return (reference, configuration, try Fixtures.path("siglip_hf/model.safetensors"))
    }

    @Test("Hugging Face naming: image tower (attention pooling) within 1e-4, also at another size with resampled positions")
    func imageTower() throws {
        let (reference, configuration, weights) = try Self.load()
        #expect(configuration.vision.pooling == .attentionPool)
        #expect(configuration.vision.activation == .geluTanh)
        let images = try CLIPImageEncoder(weights: SafetensorsFile(path: weights), configuration: configuration.vision)
        #expect(images.dimension == 64)
        let inputs = Self.images(reference.images)
        var out = [Float](repeating: 0, count: inputs.count * images.dimension)
        try out.withUnsafeMutableBufferPointer { try images.embed(images: inputs, into: $0) }
        let diff = maxAbsDifference(out, reference.image_embeddings)
        #expect(diff <= Self.tolerance, "SigLIP image embeddings differ by \(diff)")

        let larger = reference.larger_image
        var largerOut = [Float](repeating: 0, count: images.dimension)
        try larger.pixels.withUnsafeBufferPointer { pixels in
            try largerOut.withUnsafeMutableBufferPointer {
                try images.embed(pixels: pixels, imageCount: 1, width: larger.shape[3], height: larger.shape[2], into: $0)
            }
        }
        let largerDiff = maxAbsDifference(largerOut, reference.larger_image_embedding)
        #expect(largerDiff <= Self.tolerance, "SigLIP interpolated-position embedding differs by \(largerDiff)")
        print("SigLIP parity (HF, tiny): image max |Δ| \(diff), 48×40 input max |Δ| \(largerDiff)")
    }

    @Test("Hugging Face naming: text tower pooled at the last padded position within 1e-4; sigmoid logits match")
    func textTower() throws {
        let (reference, configuration, weights) = try Self.load()
        let text = try SigLIPTextEncoder(weights: SafetensorsFile(path: weights), configuration: configuration.text)
        #expect(text.dimension == 64)
        var out = [Float](repeating: 0, count: reference.token_ids.count * text.dimension)
        try out.withUnsafeMutableBufferPointer { try text.embed(tokenIDs: reference.token_ids, into: $0) }
        let diff = maxAbsDifference(out, reference.text_embeddings)
        #expect(diff <= Self.tolerance, "SigLIP text embeddings differ by \(diff)")

        // Unpadded, the last position is another token: a different embedding (padding is part of the input).
        let unpadded = reference.token_ids.map { ids in Array(ids.prefix(through: ids.firstIndex(of: 1)!)) }
        var unpaddedOut = [Float](repeating: 0, count: out.count)
        try unpaddedOut.withUnsafeMutableBufferPointer { try text.embed(tokenIDs: unpadded, into: $0) }
        #expect(maxAbsDifference(unpaddedOut, out) > 1e-3)
        // TextFraming pads the unpadded ids back to the reference's sequences.
        let framing = TextFraming.sigLIP(configuration.text)
        #expect(unpadded.map { framing.frame(Array($0.dropLast())) } == reference.token_ids)

        // logits_per_text = text · imageᵀ · exp(logit_scale) + logit_bias.
        let scoring = try #require(text.scoring)
        // The text tower's scoring is the zero-shot classifier's, read once from the same tensors: a sigmoid.
        #expect(scoring == (try ZeroShotScoring(weights: SafetensorsFile(path: weights))))
        #expect(!scoring.labelsAreExclusive)
        let images = reference.image_embeddings.count / 64
        var logitDiff: Float = 0
        for t in 0..<reference.token_ids.count {
            for i in 0..<images {
                let cosine = zip(out[(t * 64)..<((t + 1) * 64)], reference.image_embeddings[(i * 64)..<((i + 1) * 64)])
                    .reduce(Float(0)) { $0 + $1.0 * $1.1 }
                logitDiff = max(logitDiff, abs(scoring.logit(cosine: cosine) - reference.logits_per_text[t * images + i]))
                let p = scoring.scores(cosines: [cosine])[0]
                #expect(p > 0 && p < 1)
            }
        }
        #expect(logitDiff <= 1e-3, "sigmoid logits differ by \(logitDiff)")
        print("SigLIP parity (HF, tiny): text max |Δ| \(diff), logits max |Δ| \(logitDiff)")
    }

    @Test("SigLIP loading is strict: a missing head tensor and a CLIP configuration are errors")
    func strictLoading() throws {
        let (_, configuration, weights) = try Self.load()
        var clipShaped = configuration.vision
        clipShaped.pooling = .classToken
        #expect(throws: SearchError.self) {
            _ = try CLIPImageEncoder(weights: SafetensorsFile(path: weights), configuration: clipShaped)
        }
        var wrongWidth = configuration.vision
        wrongWidth.embeddingDimension = 32
        #expect(throws: SearchError.self) {
            _ = try CLIPImageEncoder(weights: SafetensorsFile(path: weights), configuration: wrongWidth)
        }
        var wrongText = configuration.text
        wrongText.contextLength = 8
        #expect(throws: SearchError.self) {
            _ = try SigLIPTextEncoder(weights: SafetensorsFile(path: weights), configuration: wrongText)
        }
    }

    @Test("TextFraming: SigLIP's canonical text, truncation keeps the end id, padding to the length")
    func framing() {
        let framing = TextFraming(trailingIDs: [1], paddingID: 0, length: 5, padsToLength: true, lowercases: true, canonicalizes: true)
        #expect(framing.prepare("  A Photo,  of a CAT!! ") == "a photo of a cat")
        #expect(framing.frame([7, 8]) == [7, 8, 1, 0, 0])
        #expect(framing.frame([7, 8, 9, 10, 11, 12]) == [7, 8, 9, 10, 1])
        let plain = TextFraming(leadingIDs: [0], trailingIDs: [2], paddingID: 1, length: 4, padsToLength: false)
        #expect(plain.frame([5]) == [0, 5, 2])
        #expect(plain.frame([5, 6, 7]) == [0, 5, 6, 2])
    }
}

extension SigLIPParityTests {
    struct OpenCLIPReference: Decodable {
        var token_ids: [[Int32]]
        var images: Reference.Pixels
        var image_embeddings: [Float]
        var text_embeddings: [Float]
    }

    @Test("open_clip naming (timm trunk visual.trunk.…, text.…): image and text within 1e-4")
    func openCLIPNaming() throws {
        let reference = try Fixtures.json(OpenCLIPReference.self, "siglip_openclip_reference.json")
        let weights = try Fixtures.path("siglip_openclip/open_clip_model.safetensors")
        let vision = CLIPVisionConfiguration(
            imageSize: 32, patchSize: 8, width: 64, layers: 2, heads: 4, mlpWidth: 128, activation: .gelu,
            layerNormEpsilon: 1e-6, embeddingDimension: 64, pooling: .attentionPool)
        let images = try CLIPImageEncoder(weights: SafetensorsFile(path: weights), configuration: vision)
        #expect(images.naming == .openAI)
        var out = [Float](repeating: 0, count: 3 * 64)
        try out.withUnsafeMutableBufferPointer { try images.embed(images: Self.images(reference.images), into: $0) }
        let imageDiff = maxAbsDifference(out, reference.image_embeddings)
        #expect(imageDiff <= Self.tolerance, "open_clip SigLIP image embeddings differ by \(imageDiff)")

        let textConfiguration = SigLIPTextConfiguration(
            contextLength: 16, vocabularySize: 120, width: 48, layers: 2, heads: 4, mlpWidth: 96, embeddingDimension: 64)
        let text = try SigLIPTextEncoder(weights: SafetensorsFile(path: weights), configuration: textConfiguration)
        #expect(text.naming == .openAI)
        var textOut = [Float](repeating: 0, count: reference.token_ids.count * 64)
        try textOut.withUnsafeMutableBufferPointer { try text.embed(tokenIDs: reference.token_ids, into: $0) }
        let textDiff = maxAbsDifference(textOut, reference.text_embeddings)
        #expect(textDiff <= Self.tolerance, "open_clip SigLIP text embeddings differ by \(textDiff)")
        #expect(text.scoring != nil)
        print("SigLIP parity (open_clip, tiny): image max |Δ| \(imageDiff), text max |Δ| \(textDiff)")
    }
}
