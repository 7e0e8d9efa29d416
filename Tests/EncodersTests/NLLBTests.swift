import Encoders
import Foundation
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
    }

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
}
