import Foundation
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

@Suite("ASCII fast path")
struct ASCIIPathTests {
    /// Random printable ASCII with many spaces, punctuation that joins words (`.`, `'`, `:`, `,`) and digits.
    static func randomText(_ rng: inout SplitMix) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;'_-!?\"()[]/\\@#$%^&*+=<>|~`{}\t\n")
        let common = ["the", "running", "Runs", "files", "library", "e.g.", "don't", "3.14", "1,000", "img_2041", "and", "for"]
        var out = ""
        for _ in 0..<Int(rng.next() % 40) {
            if rng.next() % 3 == 0 {
                out += common[Int(rng.next() % UInt64(common.count))]
            } else {
                out.append(alphabet[Int(rng.next() % UInt64(alphabet.count))])
            }
        }
        return out
    }

    @Test("ASCII text read byte by byte yields exactly the Unicode path's terms and positions", arguments: [
        TextAnalyzer.Configuration.verbatim, TextAnalyzer.Configuration(), TextAnalyzer.Configuration(stopWords: StopWords.english),
    ])
    func identical(_ configuration: TextAnalyzer.Configuration) throws {
        let analyzer = try TextAnalyzer(configuration)
        var rng = SplitMix(seed: 14)
        for _ in 0..<3_000 {
            let text = Self.randomText(&rng)
            // A trailing " é" sends the whole text down the Unicode path (NFKC, lower-casing by
            // code point) and adds one last term of its own, after a separator.
            let fast = analyzer.tokens(text)
            let unicode = analyzer.tokens(text + " é")
            #expect(unicode.count == fast.count + 1, "\(text)")
            #expect(unicode.dropLast().map(\.term) == fast.map(\.term), "\(text)")
            #expect(unicode.dropLast().map(\.position) == fast.map(\.position), "\(text)")
        }
    }

    @Test("an index's cached word → term mapping gives the analyzer's terms (stems shared, stop words dropped)")
    func indexedTermsMatchAnalyzer() throws {
        let directory = temporaryDirectory("ascii")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let field = LexicalField(name: "text", analyzer: .init(stopWords: StopWords.english))
        let index = try LexicalIndex(directory: directory, configuration: .init(fields: [field]))
        let analyzer = try TextAnalyzer(field.analyzer)
        var rng = SplitMix(seed: 7)
        var texts: [String] = []
        for i in 0..<400 {
            let text = ASCIIPathTests.randomText(&rng) + (i % 5 == 0 ? " Café naïve 東京" : "")
            texts.append(text)
            try index.add(id: VectorID(UInt64(i)), fields: ["text": text])
        }
        // Expected document frequencies and total length from the analyzer itself.
        var frequency: [String: Int] = [:]
        var total: UInt64 = 0
        for text in texts {
            let terms = analyzer.terms(text)
            total += UInt64(terms.count)
            for term in Set(terms) { frequency[term, default: 0] += 1 }
        }
        #expect(frequency.count > 100)
        for round in 0..<2 {
            let searcher = try index.snapshot()
            #expect(searcher.views.reduce(0) { $0 + $1.segment.fieldTotals[0] } == total, "round \(round)")
            var indexed = 0
            for view in searcher.views { indexed += view.segment.termCount }
            if round == 1 { #expect(indexed == frequency.count) }
            for (term, n) in frequency {
                #expect(searcher.documentFrequency(field: 0, term: term) == n, "round \(round): '\(term)'")
            }
            try index.flush()
        }
    }
}

/// A seeded generator for the tests' random text.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
