import Encoders
import Foundation
import SearchCore
import Testing

/// A tiny seeded M-CLIP (XLM-RoBERTa + mean pooling + LinearTransformation)
/// built by `scripts/fixtures/make_siglip_fixtures.py` from transformers'
/// `XLMRobertaModel`, its state dict saved in safetensors with the keys M-CLIP
/// publishes; the reference ran the padded batch with an attention mask.
@Suite("Multilingual CLIP (XLM-R) parity (tiny seeded model)")
struct MultilingualCLIPTests {
    struct Reference: Decodable {
        var token_ids: [[Int32]]
        var text_embeddings: [Float]
    }

    struct Shifted: SubwordTokenizer {
        func encode(_ text: String) -> [Int32] { text.unicodeScalars.map { Int32($0.value % 5) } }
    }

    @Test("the folder loads (RoBERTa position offset from the base's config) and embeds within 1e-4 of the reference")
    func parity() throws {
        let reference = try Fixtures.json(Reference.self, "mclip_reference.json")
        let encoder = try MultilingualCLIPTextEncoder(directory: Fixtures.path("mclip_xlmr"))
        #expect(encoder.configuration.positionOffset == 2)
        #expect(encoder.configuration.maximumTokens == 38)
        #expect(encoder.dimension == 64)
        var out = [Float](repeating: 0, count: reference.token_ids.count * encoder.dimension)
        try out.withUnsafeMutableBufferPointer { try encoder.embed(tokenIDs: reference.token_ids, into: $0) }
        let diff = maxAbsDifference(out, reference.text_embeddings)
        #expect(diff <= 1e-4, "M-CLIP text embeddings differ by \(diff)")
        print("M-CLIP (XLM-R) parity, tiny: text max |Δ| \(diff)")

        // One token past the positions is refused, as is an embed without a tokenizer.
        let tooLong = [Int32](repeating: 5, count: 39)
        var one = [Float](repeating: 0, count: encoder.dimension)
        #expect(throws: SearchError.self) { try one.withUnsafeMutableBufferPointer { try encoder.embed(tokenIDs: [tooLong], into: $0) } }
        #expect(throws: SearchError.self) { try one.withUnsafeMutableBufferPointer { try encoder.embed(texts: ["x"], into: $0) } }
    }

    @Test("texts are framed <s> … </s>, truncated to the positions; SentencePiece ids shift into fairseq's dictionary")
    func framing() throws {
        let encoder = try MultilingualCLIPTextEncoder(
            directory: Fixtures.path("mclip_xlmr"), tokenizer: FairseqOffsetTokenizer(Shifted()))
        #expect(FairseqOffsetTokenizer(Shifted()).encode("\u{5}\u{6}") == [3, 2])
        #expect(encoder.framing.frame([7, 8]) == [0, 7, 8, 2])
        #expect(encoder.framing.frame([Int32](repeating: 9, count: 50)).count == 38)
        let viaText = try encoder.embed("abc")
        var viaIDs = [Float](repeating: 0, count: encoder.dimension)
        try viaIDs.withUnsafeMutableBufferPointer { try encoder.embed(tokenIDs: [[0, 3, 4, 5, 2]], into: $0) }
        #expect(viaText.values == viaIDs)
    }

    @Test("a modelBase that is neither a subfolder nor known, and another model_type, are errors")
    func configurationErrors() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mclip-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try #"{"model_type": "M-CLIP", "modelBase": "nowhere", "numDims": 4}"#.write(
            toFile: directory + "/config.json", atomically: true, encoding: .utf8)
        #expect(throws: SearchError.self) { _ = try MultilingualCLIPTextEncoder.configuration(directory: directory) }
        try #"{"model_type": "M-CLIP", "modelBase": "xlm-roberta-large", "numDims": 768}"#.write(
            toFile: directory + "/config.json", atomically: true, encoding: .utf8)
        let (known, dims) = try MultilingualCLIPTextEncoder.configuration(directory: directory)
        #expect(known.hiddenSize == 1024 && known.layers == 24 && known.positionOffset == 2 && dims == 768)
        try #"{"model_type": "clip"}"#.write(toFile: directory + "/config.json", atomically: true, encoding: .utf8)
        #expect(throws: SearchError.self) { _ = try MultilingualCLIPTextEncoder.configuration(directory: directory) }
    }
}
