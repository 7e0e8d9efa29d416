import Encoders
import Foundation
import SearchCore
import Tensor
import Testing

/// FP16 and INT8 weights against FP32 on the same inputs: the bars are
/// cosine ≥ 0.9999 (FP16) and ≥ 0.99 (INT8) for every embedding. One text at a
/// time runs the streamed few-token path; a batch runs the tiled GEMM path.
@Suite("Weight precision: FP16 and INT8 against FP32")
struct WeightPrecisionTests {
    static let bars: [(WeightPrecision, Double)] = [(.float16, 0.9999), (.int8, 0.99)]

    /// The smallest cosine between matching rows of two `count × d` batches.
    static func worstCosine(_ a: [Float], _ b: [Float], dimension d: Int) -> Double {
        stride(from: 0, to: a.count, by: d).map { cosine(a[$0..<($0 + d)], b[$0..<($0 + d)]) }.min() ?? 1
    }

    @Test("MiniLM (real weights): batched and one text at a time", .enabled(if: TestModels.miniLM != nil, Comment(rawValue: TestModels.missingMiniLM)))
    func miniLM() throws {
        let reference = try Fixtures.json(MiniLMTests.Reference.self, "minilm_reference.json")
        let texts = reference.texts
        let exact = try BERTTextEncoder(directory: TestModels.miniLM!)
        let expected = try exact.embed(texts: texts)
        let expectedFirst = try exact.embed(texts: [texts[0]])
        for (precision, bar) in Self.bars {
            let encoder = try BERTTextEncoder(directory: TestModels.miniLM!, precision: precision)
            #expect(encoder.precision == precision)
            let batch = Self.worstCosine(try encoder.embed(texts: texts), expected, dimension: exact.dimension)
            let single = Self.worstCosine(try encoder.embed(texts: [texts[0]]), expectedFirst, dimension: exact.dimension)
            print("MiniLM \(precision): worst cosine to FP32 \(batch) batched, \(single) alone")
            #expect(batch >= bar)
            #expect(single >= bar)
        }
    }

    @Test("tiny CLIP fixture: image and text towers")
    func clip() throws {
        let reference = try Fixtures.json(CLIPParityTests.Reference.self, "clip_reference.json")
        let directory = try Fixtures.path("clip_openai")
        let images = CLIPParityTests.images(reference.images)
        let tokenizer = try CLIPParityTests.tokenizer()
        let config = try CLIPConfiguration(openCLIPConfigPath: directory + "/open_clip_config.json")
        let weights = directory + "/model.safetensors"
        func embed(_ precision: WeightPrecision) throws -> (image: [Float], text: [Float], bytes: Int) {
            let imageEncoder = try CLIPImageEncoder(
                weights: SafetensorsFile(path: weights), configuration: config.vision, precision: precision)
            let textEncoder = try CLIPTextEncoder(
                weights: SafetensorsFile(path: weights), configuration: config.text, tokenizer: tokenizer,
                precision: precision)
            var image = [Float](repeating: 0, count: images.count * imageEncoder.dimension)
            try image.withUnsafeMutableBufferPointer { try imageEncoder.embed(images: images, into: $0) }
            var text = [Float](repeating: 0, count: reference.token_ids.count * textEncoder.dimension)
            try text.withUnsafeMutableBufferPointer { try textEncoder.embed(tokenIDs: reference.token_ids, into: $0) }
            return (image, text, imageEncoder.blockWeightByteCount + textEncoder.blockWeightByteCount)
        }
        let exact = try embed(.float32)
        for (precision, bar) in Self.bars {
            let result = try embed(precision)
            let image = Self.worstCosine(result.image, exact.image, dimension: config.vision.embeddingDimension)
            let text = Self.worstCosine(result.text, exact.text, dimension: config.text.embeddingDimension)
            print("tiny CLIP \(precision): worst cosine to FP32 \(image) image, \(text) text")
            #expect(image >= bar)
            #expect(text >= bar)
        }
        // Memory: FP16 is half of FP32; INT8 a quarter plus one 4-byte scale per output row. FP32
        // packed for the AVX2/AVX-512 GEMM pads each matrix to whole 32-row panels, which this
        // fixture's 16-wide text layers show (real towers' widths are multiples of 32).
        let half = try embed(.float16).bytes
        if LinearLayerMatrix.packingAvailable {
            #expect(half * 2 <= exact.bytes)
        } else {
            #expect(half * 2 == exact.bytes)
        }
        // Packed for the INT8 GEMM, a matrix also pads its outputs to 32 and its inputs to 4
        // and keeps a column sum and a scale per padded output: 1 + 8/k bytes per weight, at
        // most 3/8 of packed FP32 for this fixture's 16-wide layers (1/4 + 1/(2k) in general).
        let int8 = try embed(.int8).bytes
        if Int8LinearMatrix.isFast {
            #expect(int8 * 8 <= exact.bytes * 3)
        } else {
            #expect(int8 < half / 2 + half / 8)
        }
    }
}
