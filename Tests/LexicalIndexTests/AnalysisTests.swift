import SearchCore
import Testing

@testable import LexicalIndex

@Suite("Text analysis")
struct AnalysisTests {
    @Test("word boundaries: apostrophes, decimals and connectors inside words, punctuation between")
    func words() throws {
        let analyzer = try TextAnalyzer(.verbatim)
        #expect(analyzer.terms("Don't stop: 3.14, 1,000 IMG_2041.jpg e.g. well-known") == [
            "don't", "stop", "3.14", "1,000", "img_2041", "jpg", "e.g", "well", "known",
        ])
        #expect(analyzer.terms("  ...  ") == [])
    }

    @Test("NFKC and lower-casing: full-width letters, ligatures, capitals")
    func normalisation() throws {
        let analyzer = try TextAnalyzer(.verbatim)
        #expect(analyzer.terms("ＡＢＣ ﬁle ÉCOLE Straße") == ["abc", "file", "école", "straße"])
    }

    @Test("diacritic folding is optional")
    func diacritics() throws {
        let folded = try TextAnalyzer(.init(language: nil, foldDiacritics: true))
        #expect(folded.terms("Café Ångström naïve") == ["cafe", "angstrom", "naive"])
        let kept = try TextAnalyzer(.verbatim)
        #expect(kept.terms("Café") == ["café"])
    }

    @Test("CJK runs become overlapping bigrams; a lone character stays; Latin around them is separate")
    func cjk() throws {
        let analyzer = try TextAnalyzer(.verbatim)
        #expect(analyzer.terms("東京都に行く") == ["東京", "京都", "都に", "に行", "行く"])
        #expect(analyzer.terms("猫 and 犬") == ["猫", "and", "犬"])
        #expect(analyzer.terms("東京tower") == ["東京", "tower"])
        let positions = analyzer.tokens("東京都").map(\.position)
        #expect(positions == [0, 1])
    }

    @Test("stop words leave a gap in positions; stemming per language")
    func stopWordsAndStemming() throws {
        let english = try TextAnalyzer(.init(language: "english", stopWords: StopWords.english))
        let tokens = english.tokens("The legs of the tables")
        #expect(tokens.map(\.term) == ["leg", "tabl"])
        #expect(tokens.map(\.position) == [1, 4])
        let french = try TextAnalyzer(.init(language: "french"))
        #expect(french.terms("chevaux") == ["cheval"])
        #expect(TextAnalyzer.availableLanguages.contains("russian"))
    }

    @Test("an unknown stemmer language is a typed error")
    func unknownLanguage() {
        #expect(throws: SearchError.self) { try TextAnalyzer(.init(language: "klingon")) }
    }

    @Test("a word over 255 bytes is dropped, not truncated")
    func longWords() throws {
        let analyzer = try TextAnalyzer(.verbatim)
        #expect(analyzer.terms(String(repeating: "a", count: 300) + " b") == ["b"])
    }

    @Test("query parsing: phrases, prefixes, free text, an unclosed quote")
    func queryParsing() {
        #expect(LexicalQuery(parsing: "\"brass legs\" table img_20*").clauses == [.phrase("brass legs"), .text("table"), .prefix("img_20")])
        #expect(LexicalQuery(parsing: "walnut \"oak").clauses == [.text("walnut oak")])
        #expect(LexicalQuery(parsing: "*").clauses == [.text("*")])
    }
}
