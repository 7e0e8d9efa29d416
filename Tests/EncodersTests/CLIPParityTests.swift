import Encoders
import Foundation
import SearchCore
import Testing
import _TestSupport

/// Tiny seeded CLIP models in both namings against the libraries that made
/// them (open_clip with QuickGELU in BF16; transformers' CLIPModel with GELU
/// in F16). The weights in the files are exactly those the references ran,
/// so the only differences are float summation order and our `exp`/`erf`
/// approximations: 1e-4 on unit vectors is a hundred times that.
@Suite("CLIP parity (tiny seeded models)")
struct CLIPParityTests {
    struct Reference: Decodable {
        struct Pixels: Decodable {
            var shape: [Int]
            var pixels: [Float]
        }
        struct Expected: Decodable {
            var image_embeddings: [Float]
            var text_embeddings: [Float]
            var larger_image_embedding: [Float]?
        }
        var texts: [String]
        var token_ids: [[Int32]]
        var images: Pixels
        var larger_image: Pixels
        var openai: Expected
        var huggingface: Expected
    }

    static let tolerance: Float = 1e-4

    static func images(_ p: Reference.Pixels) -> [ImageInput] {
        let (n, h, w) = (p.shape[0], p.shape[2], p.shape[3])
        let size = 3 * h * w
        return (0..<n).map { .preprocessed(Array(p.pixels[(size * $0)..<(size * ($0 + 1))]), width: w, height: h) }
    }

    static let sharedTokenizer = Result { try makeTokenizer() }

    /// A tokenizer for the text towers; the ids come from the fixture, so any merges file of the right size works.
    static func tokenizer() throws -> CLIPTokenizer { try sharedTokenizer.get() }

    static func makeTokenizer() throws -> CLIPTokenizer {
        if let merges = TestModels.clipMerges { return try CLIPTokenizer(mergesPath: merges) }
        // Without the real file: a synthetic merge list of the right length (ids are given explicitly here).
        return try CLIPTokenizer(mergesPath: syntheticMergesFile(count: CLIPTokenizer.mergeCount))
    }

    func check(naming: String, config: CLIPConfiguration, expected: Reference.Expected, reference: Reference) throws {
        let weights = try Fixtures.path("\(naming)/model.safetensors")
        let images = try CLIPImageEncoder(weights: SafetensorsFile(path: weights), configuration: config.vision)
        var out = [Float](repeating: 0, count: 3 * images.dimension)
        try out.withUnsafeMutableBufferPointer { try images.embed(images: Self.images(reference.images), into: $0) }
        let imageDiff = maxAbsDifference(out, expected.image_embeddings)
        #expect(imageDiff <= Self.tolerance, "\(naming) image embeddings differ by \(imageDiff)")

        let text = try CLIPTextEncoder(
            weights: SafetensorsFile(path: weights), configuration: config.text, tokenizer: Self.tokenizer())
        var textOut = [Float](repeating: 0, count: reference.token_ids.count * text.dimension)
        try textOut.withUnsafeMutableBufferPointer { try text.embed(tokenIDs: reference.token_ids, into: $0) }
        let textDiff = maxAbsDifference(textOut, expected.text_embeddings)
        #expect(textDiff <= Self.tolerance, "\(naming) text embeddings differ by \(textDiff)")

        // Zero-padded to the context, as open_clip's tokenize returns them: the same embeddings.
        let padded = reference.token_ids.map { $0 + [Int32](repeating: 0, count: 77 - $0.count) }
        var paddedOut = [Float](repeating: 0, count: textOut.count)
        try paddedOut.withUnsafeMutableBufferPointer { try text.embed(tokenIDs: padded, into: $0) }
        #expect(maxAbsDifference(paddedOut, textOut) == 0)
        print("CLIP parity \(naming): image max |Δ| \(imageDiff), text max |Δ| \(textDiff)")
    }

    @Test("open_clip / OpenAI naming, QuickGELU, BF16 weights: image and text within 1e-4")
    func openAINaming() throws {
        let reference = try Fixtures.json(Reference.self, "clip_reference.json")
        let config = try CLIPConfiguration(openCLIPConfigPath: Fixtures.path("clip_openai/open_clip_config.json"))
        #expect(config.vision.activation == .quickGELU)
        try check(naming: "clip_openai", config: config, expected: reference.openai, reference: reference)
    }

    @Test("Hugging Face CLIPModel naming, GELU, F16 weights: image and text within 1e-4")
    func huggingFaceNaming() throws {
        let reference = try Fixtures.json(Reference.self, "clip_reference.json")
        let config = try CLIPConfiguration(huggingFaceConfigPath: Fixtures.path("clip_hf/config.json"))
        #expect(config.vision.activation == .gelu)
        #expect(config.text.poolingTokenID == 49407)
        try check(naming: "clip_hf", config: config, expected: reference.huggingface, reference: reference)
    }

    @Test("another input size through embed(pixels:): positional embeddings resampled bicubically, as interpolate_pos_encoding")
    func interpolatedPositions() throws {
        let reference = try Fixtures.json(Reference.self, "clip_reference.json")
        let config = try CLIPConfiguration(huggingFaceConfigPath: Fixtures.path("clip_hf/config.json"))
        let images = try CLIPImageEncoder(
            weights: SafetensorsFile(path: Fixtures.path("clip_hf/model.safetensors")), configuration: config.vision)
        let (h, w) = (reference.larger_image.shape[2], reference.larger_image.shape[3])
        var e = [Float](repeating: 0, count: images.dimension)
        try reference.larger_image.pixels.withUnsafeBufferPointer { pixels in
            try e.withUnsafeMutableBufferPointer {
                try images.embed(pixels: pixels, imageCount: 1, width: w, height: h, into: $0)
            }
        }
        let diff = maxAbsDifference(e, try #require(reference.huggingface.larger_image_embedding))
        #expect(diff <= Self.tolerance, "interpolated embedding differs by \(diff)")
    }

    @Test("preprocessed input of another size through ImageInput is a dimension mismatch, not a silent resampling")
    func otherSizeIsAnError() throws {
        let reference = try Fixtures.json(Reference.self, "clip_reference.json")
        let config = try CLIPConfiguration(huggingFaceConfigPath: Fixtures.path("clip_hf/config.json"))
        let encoder = try CLIPImageEncoder(
            weights: SafetensorsFile(path: Fixtures.path("clip_hf/model.safetensors")), configuration: config.vision)
        #expect(encoder.inputShape == ImageInputShape(channels: 3, height: 32, width: 32))
        let inputs = Self.images(reference.images) + Self.images(reference.larger_image)
        var batch = [Float](repeating: 0, count: inputs.count * encoder.dimension)
        #expect {
            try batch.withUnsafeMutableBufferPointer { try encoder.embed(images: inputs, into: $0) }
        } throws: { error in
            guard let e = error as? SearchError else { return false }
            return e.code == .dimensionMismatch && e.message.contains("image 3 of 4") && e.message.contains("3×32×32")
                && e.message.contains("preprocess(_:into:)")
        }
    }

    @Test("a batch gives each image the embedding it gets alone")
    func batchMatchesAlone() throws {
        let reference = try Fixtures.json(Reference.self, "clip_reference.json")
        let config = try CLIPConfiguration(huggingFaceConfigPath: Fixtures.path("clip_hf/config.json"))
        let encoder = try CLIPImageEncoder(
            weights: SafetensorsFile(path: Fixtures.path("clip_hf/model.safetensors")), configuration: config.vision)
        let inputs = Self.images(reference.images)
        var batch = [Float](repeating: 0, count: inputs.count * encoder.dimension)
        try batch.withUnsafeMutableBufferPointer { try encoder.embed(images: inputs, into: $0) }
        for (i, input) in inputs.enumerated() {
            let alone = try encoder.embed(input).values
            #expect(maxAbsDifference(alone, batch[(i * encoder.dimension)..<((i + 1) * encoder.dimension)]) <= 1e-6)
        }
    }

    @Test("undecodable bytes, a wrong pixel count, another input size and a wrong output size are typed errors")
    func badImageInput() throws {
        let config = try CLIPConfiguration(huggingFaceConfigPath: Fixtures.path("clip_hf/config.json"))
        let encoder = try CLIPImageEncoder(
            weights: SafetensorsFile(path: Fixtures.path("clip_hf/model.safetensors")), configuration: config.vision)
        func code(_ input: ImageInput, outputCount: Int? = nil) -> SearchError.Code? {
            var out = [Float](repeating: 0, count: outputCount ?? encoder.dimension)
            do {
                try out.withUnsafeMutableBufferPointer { try encoder.embed(images: [input], into: $0) }
                return nil
            } catch let error as SearchError {
                return error.code
            } catch {
                return nil
            }
        }
        #expect(code(.encoded([0xFF, 0xD8])) == .unsupportedFormat)
        // A 1×1 RGB image is resized up to the model's input, as CLIP's preprocessing does.
        #expect(code(.rgb(try RGBImage(width: 1, height: 1, pixels: [0, 0, 0]))) == nil)
        #expect(code(.preprocessed([0, 1, 2], width: 32, height: 32)) == .dimensionMismatch)
        // Only the encoder's input shape is taken through ImageInput (a 4×4 image is not 32×32).
        #expect(code(.preprocessed([Float](repeating: 0, count: 3 * 16), width: 4, height: 4)) == .dimensionMismatch)
        #expect(code(.preprocessed([Float](repeating: 0, count: 3 * 32 * 32), width: 32, height: 32), outputCount: 3) == .dimensionMismatch)
    }

    @Test("a text tower with the wrong geometry is a shape error naming the tensor")
    func wrongGeometry() throws {
        var config = try CLIPConfiguration(huggingFaceConfigPath: Fixtures.path("clip_hf/config.json"))
        config.vision.mlpWidth = 96
        #expect {
            _ = try CLIPImageEncoder(
                weights: SafetensorsFile(path: Fixtures.path("clip_hf/model.safetensors")), configuration: config.vision)
        } throws: { error in
            guard let e = error as? SearchError else { return false }
            return e.code == .dimensionMismatch && e.message.contains("fc1.weight") && e.message.contains("[128, 32]")
        }
    }

    @Test("weights of one naming read as the other: the missing key is named")
    func wrongNaming() throws {
        let config = try CLIPConfiguration(huggingFaceConfigPath: Fixtures.path("clip_hf/config.json"))
        #expect {
            _ = try CLIPImageEncoder(
                weights: SafetensorsFile(path: Fixtures.path("clip_hf/model.safetensors")), configuration: config.vision,
                naming: .openAI)
        } throws: { error in
            guard let e = error as? SearchError else { return false }
            return e.code == .corruptData && e.message.contains("visual.conv1.weight")
        }
    }
}

extension CLIPParityTests {
    @Test("a contiguous N×3×H×W buffer embeds as the same images passed one by one")
    func contiguousPixels() throws {
        let reference = try Fixtures.json(Reference.self, "clip_reference.json")
        let config = try CLIPConfiguration(openCLIPConfigPath: Fixtures.path("clip_openai/open_clip_config.json"))
        let encoder = try CLIPImageEncoder(
            weights: SafetensorsFile(path: Fixtures.path("clip_openai/model.safetensors")), configuration: config.vision)
        var out = [Float](repeating: 0, count: 3 * encoder.dimension)
        try reference.images.pixels.withUnsafeBufferPointer { pixels in
            try out.withUnsafeMutableBufferPointer {
                try encoder.embed(pixels: pixels, imageCount: 3, width: 32, height: 32, into: $0)
            }
        }
        #expect(maxAbsDifference(out, reference.openai.image_embeddings) <= Self.tolerance)
        #expect(throws: SearchError.self) {
            try reference.images.pixels.withUnsafeBufferPointer { pixels in
                try out.withUnsafeMutableBufferPointer {
                    try encoder.embed(pixels: pixels, imageCount: 2, width: 32, height: 32, into: $0)
                }
            }
        }
    }
}

extension CLIPParityTests {
    @Test("token sequences: empty, too long, out-of-vocabulary ids and a wrong output size are typed errors")
    func badTokenInput() throws {
        let config = try CLIPConfiguration(huggingFaceConfigPath: Fixtures.path("clip_hf/config.json"))
        let text = try CLIPTextEncoder(
            weights: SafetensorsFile(path: Fixtures.path("clip_hf/model.safetensors")), configuration: config.text,
            tokenizer: Self.tokenizer())
        func code(_ ids: [[Int32]], outputCount: Int? = nil) -> SearchError.Code? {
            var out = [Float](repeating: 0, count: outputCount ?? ids.count * text.dimension)
            do {
                try out.withUnsafeMutableBufferPointer { try text.embed(tokenIDs: ids, into: $0) }
                return nil
            } catch let error as SearchError {
                return error.code
            } catch {
                return nil
            }
        }
        #expect(code([[]]) == .invalidArgument)
        #expect(code([[Int32](repeating: 320, count: 78)]) == .invalidArgument)
        #expect(code([[49406, 49408, 49407]]) == .invalidArgument)
        #expect(code([[49406, -1, 49407]]) == .invalidArgument)
        #expect(code([[49406, 320, 49407]], outputCount: 5) == .dimensionMismatch)
        #expect(code([]) == nil)
    }

    @Test("a merges file with too few or malformed lines is corrupt data")
    func badMerges() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mms-bad-merges-\(UUID()).txt").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "#version: 0.2\ni n\nt h\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect { _ = try CLIPTokenizer(mergesPath: path) } throws: { ($0 as? SearchError)?.code == .corruptData }
        #expect { _ = try CLIPTokenizer(mergesPath: path, mergeCount: 3) } throws: {
            ($0 as? SearchError)?.code == .corruptData
        }
        let small = try CLIPTokenizer(mergesPath: path, mergeCount: 2)
        #expect(small.vocabularySize == 512 + 2 + 2)
        #expect(small.tokens(small.encode("thin")) == ["<|startoftext|>", "th", "i", "n</w>", "<|endoftext|>"])
    }
}

extension CLIPParityTests {
    @Test("concurrent tasks share one image encoder (and its scratch pool) and get the same embeddings")
    func concurrentImages() async throws {
        let reference = try Fixtures.json(Reference.self, "clip_reference.json")
        let config = try CLIPConfiguration(huggingFaceConfigPath: Fixtures.path("clip_hf/config.json"))
        let encoder = try CLIPImageEncoder(
            weights: SafetensorsFile(path: Fixtures.path("clip_hf/model.safetensors")), configuration: config.vision)
        let inputs = Self.images(reference.images) + Self.images(reference.images).reversed()
        var serial = [Float](repeating: 0, count: inputs.count * encoder.dimension)
        try serial.withUnsafeMutableBufferPointer { try encoder.embed(images: inputs, into: $0) }
        let expected = serial
        try await withThrowingTaskGroup(of: [Float].self) { group in
            for i in 0..<12 {
                group.addTask {
                    // Vary the batch so buffers of different sizes move through the pool.
                    let batch = Array(inputs.prefix(1 + i % inputs.count))
                    var out = [Float](repeating: 0, count: batch.count * encoder.dimension)
                    try out.withUnsafeMutableBufferPointer { try encoder.embed(images: batch, into: $0) }
                    return out
                }
            }
            for try await out in group {
                #expect(maxAbsDifference(out, expected.prefix(out.count)) <= 1e-6)
            }
        }
    }
}
