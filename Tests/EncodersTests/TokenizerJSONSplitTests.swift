@testable import Encoders
import Testing

@Suite("tokenizer.json Split")
struct TokenizerJSONSplitTests {
    @Test("Split pre-tokenizer on a string: each behaviour as the tokenizers library documents it")
    func splitBehaviours() {
        // "the-final--countdown" split on "-" (tokenizers' docs give these five results).
        let text = Array("the-final--countdown".utf8)
        func parts(_ behavior: TokenizerJSONPipeline.SplitBehavior) -> [String] {
            TokenizerJSONPipeline.split(text, Array("-".utf8), behavior).map { String(decoding: text[$0], as: UTF8.self) }
        }
        #expect(parts(.removed) == ["the", "final", "countdown"])
        #expect(parts(.isolated) == ["the", "-", "final", "-", "-", "countdown"])
        #expect(parts(.mergedWithPrevious) == ["the-", "final-", "-", "countdown"])
        #expect(parts(.mergedWithNext) == ["the", "-final", "-", "-countdown"])
        #expect(parts(.contiguous) == ["the", "-", "final", "--", "countdown"])
    }
}
