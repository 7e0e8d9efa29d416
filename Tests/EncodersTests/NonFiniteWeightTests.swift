import Encoders
import Foundation
import SearchCore
import Tensor
import Testing

/// A NaN or an infinity written into one weight of a safetensors file (a
/// query projection, a layer norm, one row of an embedding table) is a typed
/// error naming the tensor when the encoder loads, for the CLIP image and
/// text towers and BERT, from F32, F16 and BF16 files, in every weight
/// precision; never an encoder that returns NaN embeddings.
@Suite("Non-finite weights")
struct NonFiniteWeightTests {
    enum Poison: CaseIterable {
        case nan, plusInfinity, minusInfinity

        var word: String {
            switch self {
            case .nan: "NaN"
            case .plusInfinity: "+infinity"
            case .minusInfinity: "-infinity"
            }
        }

        func bits(_ dtype: SafetensorsDType) -> [UInt8] {
            switch dtype {
            case .float32:
                let f: Float = self == .nan ? .nan : (self == .plusInfinity ? .infinity : -.infinity)
                return withUnsafeBytes(of: f.bitPattern.littleEndian, Array.init)
            case .float16:
                let h: UInt16 = self == .nan ? 0x7E00 : (self == .plusInfinity ? 0x7C00 : 0xFC00)
                return withUnsafeBytes(of: h.littleEndian, Array.init)
            default:  // BF16
                let b: UInt16 = self == .nan ? 0x7FC0 : (self == .plusInfinity ? 0x7F80 : 0xFF80)
                return withUnsafeBytes(of: b.littleEndian, Array.init)
            }
        }
    }

    /// A copy of the safetensors file at `source` with element `element` of `tensor` overwritten by `poison`,
    /// in the tensor's own dtype (the file's bytes otherwise unchanged).
    static func poisoned(_ source: String, tensor: String, element: Int, _ poison: Poison) throws -> String {
        let file = try SafetensorsFile(path: source)
        let info = try #require(file.header[tensor], "\(source) has no \(tensor)")
        #expect(element < info.elementCount)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source)))
        let value = poison.bits(info.dtype)
        let at = file.header.dataOffset + info.byteRange.lowerBound + element * value.count
        bytes.replaceSubrange(at..<(at + value.count), with: value)
        let path = WeightLoadingTests.temporaryPath("poisoned.safetensors")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Expects `load` to throw corruptData naming `tensor`, the file and the kind of value.
    static func expectRefused(_ what: String, tensor: String, path: String, _ poison: Poison, _ load: () throws -> Void) {
        do {
            try load()
            Issue.record("\(what): a \(poison.word) in \(tensor) loaded without an error")
        } catch let e as SearchError {
            #expect(e.code == .corruptData, "\(what): \(e)")
            #expect(e.message.contains("\"\(tensor)\"") && e.message.contains(path) && e.message.contains(poison.word), "\(what): \(e.message)")
        } catch {
            Issue.record("\(what): \(error) is not a SearchError")
        }
    }

    /// The same tensors as an F32 file.
    static func asFloat32(_ source: String) throws -> String {
        let path = WeightLoadingTests.temporaryPath("f32.safetensors")
        try SafetensorsFile.write(WeightLoadingTests.tensors(source), to: path)
        return path
    }

    /// The CLIP fixtures (HF naming in F16 and as F32; OpenAI naming in BF16) and, for each, the three
    /// tensors each tower poisons: (tensor, element) — a query projection, a layer norm, an embedding row.
    struct CLIPCase {
        var label: String
        var path: String
        var config: CLIPConfiguration
        var image: [(String, Int)]
        var text: [(String, Int)]
    }

    static func clipCases() throws -> [CLIPCase] {
        let hf = try CLIPConfiguration(huggingFaceConfigPath: Fixtures.path("clip_hf/config.json"))
        let openAI = try CLIPConfiguration(openCLIPConfigPath: Fixtures.path("clip_openai/open_clip_config.json"))
        let hfImage = [
            ("vision_model.encoder.layers.0.self_attn.q_proj.weight", 37),
            ("vision_model.encoder.layers.0.layer_norm1.weight", 5),
            ("vision_model.embeddings.patch_embedding.weight", 3 * 192 + 11),
        ]
        let hfText = [
            ("text_model.encoder.layers.0.self_attn.q_proj.weight", 21),
            ("text_model.final_layer_norm.weight", 2),
            ("text_model.embeddings.token_embedding.weight", 320 * 16 + 4),  // row 320: a token the texts below use
        ]
        let hfPath = try Fixtures.path("clip_hf/model.safetensors")
        return [
            CLIPCase(label: "HF F16", path: hfPath, config: hf, image: hfImage, text: hfText),
            CLIPCase(label: "HF F32", path: try asFloat32(hfPath), config: hf, image: hfImage, text: hfText),
            CLIPCase(
                label: "OpenAI BF16", path: try Fixtures.path("clip_openai/model.safetensors"), config: openAI,
                image: [
                    ("visual.transformer.resblocks.0.attn.in_proj_weight", 40),  // row 1: the query block
                    ("visual.transformer.resblocks.1.ln_2.weight", 9),
                    ("visual.conv1.weight", 192 + 1),
                ],
                text: [
                    ("transformer.resblocks.0.attn.in_proj_weight", 15),
                    ("ln_final.weight", 0),
                    ("token_embedding.weight", 320 * 16),
                ]),
        ]
    }

    @Test("CLIP image tower: a poisoned query projection, layer norm or patch embedding is refused at load, every precision")
    func clipImage() throws {
        for c in try Self.clipCases() {
            // Unpoisoned, the same file loads and embeds finite vectors.
            let clean = try CLIPImageEncoder(weights: SafetensorsFile(path: c.path), configuration: c.config.vision)
            let side = clean.inputShape.width
            let e = try clean.embed(.preprocessed([Float](repeating: 0.25, count: 3 * side * side), width: side, height: side))
            #expect(e.values.allSatisfy { $0.isFinite })
            for (i, (tensor, element)) in c.image.enumerated() {
                let poison = Poison.allCases[i % 3]
                let path = try Self.poisoned(c.path, tensor: tensor, element: element, poison)
                defer { try? FileManager.default.removeItem(atPath: path) }
                for precision in WeightPrecision.allCases {
                    Self.expectRefused("\(c.label) image \(precision)", tensor: tensor, path: path, poison) {
                        _ = try CLIPImageEncoder(weights: SafetensorsFile(path: path), configuration: c.config.vision, precision: precision)
                    }
                }
            }
        }
    }

    @Test("CLIP text tower: a poisoned query projection, final layer norm or token-embedding row is refused at load, every precision")
    func clipText() throws {
        let tokenizer = try CLIPParityTests.tokenizer()
        for c in try Self.clipCases() {
            let clean = try CLIPTextEncoder(weights: SafetensorsFile(path: c.path), configuration: c.config.text, tokenizer: tokenizer)
            var out = [Float](repeating: .nan, count: clean.dimension)
            try out.withUnsafeMutableBufferPointer { try clean.embed(tokenIDs: [[49406, 320, 49407]], into: $0) }
            #expect(out.allSatisfy { $0.isFinite })
            for (i, (tensor, element)) in c.text.enumerated() {
                let poison = Poison.allCases[(i + 1) % 3]
                let path = try Self.poisoned(c.path, tensor: tensor, element: element, poison)
                defer { try? FileManager.default.removeItem(atPath: path) }
                for precision in WeightPrecision.allCases {
                    Self.expectRefused("\(c.label) text \(precision)", tensor: tensor, path: path, poison) {
                        _ = try CLIPTextEncoder(
                            weights: SafetensorsFile(path: path), configuration: c.config.text, tokenizer: tokenizer,
                            precision: precision)
                    }
                }
            }
        }
    }

    // MARK: BERT

    static let bertConfiguration = BERTConfiguration(
        vocabularySize: 12, hiddenSize: 16, layers: 1, heads: 2, intermediateSize: 32, maximumPositions: 16)

    /// A seeded BERT of ``bertConfiguration``'s geometry, in BERT's naming.
    static func bertTensors() -> [String: Tensor<Float>] {
        var state: UInt64 = 0x5EED
        func tensor(_ shape: [Int], offset: Float = 0) -> Tensor<Float> {
            var t = Tensor<Float>(shape: shape)
            t.withUnsafeMutableBufferPointer { b in
                for i in b.indices {
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    b[i] = offset + Float(Int(state >> 40) - (1 << 23)) / Float(1 << 23) * 0.1
                }
            }
            return t
        }
        let c = bertConfiguration, h = c.hiddenSize, f = c.intermediateSize
        var t: [String: Tensor<Float>] = [
            "embeddings.word_embeddings.weight": tensor([c.vocabularySize, h]),
            "embeddings.position_embeddings.weight": tensor([c.maximumPositions, h]),
            "embeddings.token_type_embeddings.weight": tensor([c.typeVocabularySize, h]),
            "embeddings.LayerNorm.weight": tensor([h], offset: 1), "embeddings.LayerNorm.bias": tensor([h]),
        ]
        let p = "encoder.layer.0."
        for name in ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"] {
            t[p + name + ".weight"] = tensor([h, h])
            t[p + name + ".bias"] = tensor([h])
        }
        t[p + "attention.output.LayerNorm.weight"] = tensor([h], offset: 1)
        t[p + "attention.output.LayerNorm.bias"] = tensor([h])
        t[p + "intermediate.dense.weight"] = tensor([f, h])
        t[p + "intermediate.dense.bias"] = tensor([f])
        t[p + "output.dense.weight"] = tensor([h, f])
        t[p + "output.dense.bias"] = tensor([h])
        t[p + "output.LayerNorm.weight"] = tensor([h], offset: 1)
        t[p + "output.LayerNorm.bias"] = tensor([h])
        return t
    }

    /// `tensors` as a safetensors file of F16 elements (the writer in the package writes F32 only).
    static func writeFloat16(_ tensors: [String: Tensor<Float>], to path: String) throws {
        var entries: [String] = []
        var data: [UInt8] = []
        for name in tensors.keys.sorted() {
            let t = tensors[name]!
            let start = data.count
            for v in t.scalars { withUnsafeBytes(of: Half(v).bitPattern.littleEndian) { data += $0 } }
            entries.append("\"\(name)\":{\"dtype\":\"F16\",\"shape\":\(t.shape),\"data_offsets\":[\(start),\(data.count)]}")
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian, Array.init)
        bytes += header + data
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func bertTokenizer() throws -> WordPieceTokenizer {
        let words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "red", "bike", "cat", "##s", "on", "mat"]
        return try WordPieceTokenizer(
            vocabulary: Dictionary(uniqueKeysWithValues: words.enumerated().map { ($1, Int32($0)) }), maximumLength: 16)
    }

    @Test("BERT: a poisoned query projection, layer norm or word-embedding row is refused at load, F32 and F16 files, every precision")
    func bert() throws {
        let tensors = Self.bertTensors()
        let f32 = WeightLoadingTests.temporaryPath("bert-f32.safetensors")
        let f16 = WeightLoadingTests.temporaryPath("bert-f16.safetensors")
        defer {
            try? FileManager.default.removeItem(atPath: f32)
            try? FileManager.default.removeItem(atPath: f16)
        }
        try SafetensorsFile.write(tensors, to: f32)
        try Self.writeFloat16(tensors, to: f16)
        let poisoned = [
            ("encoder.layer.0.attention.self.query.weight", 17),
            ("encoder.layer.0.attention.output.LayerNorm.weight", 3),
            ("embeddings.LayerNorm.bias", 15),
            ("embeddings.word_embeddings.weight", 7 * 16 + 2),  // the row of "bike"
        ]
        for source in [f32, f16] {
            let clean = try BERTTextEncoder(
                weights: SafetensorsFile(path: source), configuration: Self.bertConfiguration, tokenizer: try Self.bertTokenizer())
            #expect(try clean.embed("a red bike").values.allSatisfy { $0.isFinite })
            for (i, (tensor, element)) in poisoned.enumerated() {
                let poison = Poison.allCases[i % 3]
                let path = try Self.poisoned(source, tensor: tensor, element: element, poison)
                defer { try? FileManager.default.removeItem(atPath: path) }
                for precision in WeightPrecision.allCases {
                    Self.expectRefused("BERT \(source.hasSuffix("f16.safetensors") ? "F16" : "F32") \(precision)", tensor: tensor, path: path, poison) {
                        _ = try BERTTextEncoder(
                            weights: SafetensorsFile(path: path), configuration: Self.bertConfiguration,
                            tokenizer: try Self.bertTokenizer(), precision: precision)
                    }
                }
            }
        }
    }

    @Test("the error names the element's coordinates")
    func coordinates() throws {
        let source = try Fixtures.path("clip_hf/model.safetensors")
        let tensor = "text_model.embeddings.token_embedding.weight"
        let path = try Self.poisoned(source, tensor: tensor, element: 320 * 16 + 4, .nan)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let config = try CLIPConfiguration(huggingFaceConfigPath: Fixtures.path("clip_hf/config.json"))
        let tokenizer = try CLIPParityTests.tokenizer()
        do {
            _ = try CLIPTextEncoder(weights: SafetensorsFile(path: path), configuration: config.text, tokenizer: tokenizer)
            Issue.record("a NaN in \(tensor) loaded")
        } catch {
            #expect(error.message.contains("element 5124 [320, 4]"), "\(error.message)")
        }
        // The image tower never reads the text tower's table: the same file loads for images.
        _ = try CLIPImageEncoder(weights: SafetensorsFile(path: path), configuration: config.vision)
    }
}
