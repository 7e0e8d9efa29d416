import Foundation
import SearchCore
import Testing

@testable import LexicalIndex

/// Scores equal to bm25s's Lucene BM25 and stems equal to PyStemmer, on the
/// committed fixtures of scripts/fixtures/make_lexical_fixtures.py.
@Suite("BM25 and stemming parity")
struct BM25ParityTests {
    /// 1e-5 absolute: bm25s sums float32 terms, as the index does, in another
    /// order and with its own rounding of idf and length normalisation; scores
    /// here are below 20, where float32 rounding is a few 1e-6 at most.
    static let tolerance: Float = 1e-5

    @Test("the analyzer's terms equal the fixture's (lower-case, word runs, English Snowball)")
    func terms() throws {
        let json = try fixture("bm25_lucene") as! [String: Any]
        let corpus = json["corpus"] as! [String]
        let expected = json["terms"] as! [[String]]
        let analyzer = try TextAnalyzer(.init(language: "english"))
        for (text, terms) in zip(corpus, expected) {
            #expect(analyzer.terms(text) == terms, "\(text)")
        }
        for query in json["queries"] as! [[String: Any]] {
            #expect(analyzer.terms(query["text"] as! String) == query["terms"] as! [String])
        }
    }

    @Test("every document's score equals bm25s (method lucene) within 1e-5, in a head, in segments and merged")
    func scores() throws {
        let json = try fixture("bm25_lucene") as! [String: Any]
        let corpus = json["corpus"] as! [String]
        let queries = json["queries"] as! [[String: Any]]
        let directory = temporaryDirectory("parity")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A head of 100 documents: the corpus of 240 spans two segments and the head.
        let index = try LexicalIndex(
            directory: directory, configuration: .init(fields: [LexicalField(name: "text")]),
            options: .init(headDocuments: 100, maximumSegments: 4))
        let documents = corpus.enumerated().map { (id: VectorID(UInt64($0.offset)), fields: ["text": $0.element]) }
        for start in stride(from: 0, to: documents.count, by: 50) {
            try index.add(Array(documents[start..<min(start + 50, documents.count)]))
        }
        #expect(index.segments.count == 2)
        var compared = 0
        for stage in ["segments and head", "merged"] {
            if stage == "merged" { try index.merge() }
            for query in queries {
                let expected = (query["scores"] as! [Double]).map(Float.init)
                let hits = try index.search(query["text"] as! String, k: corpus.count)
                let byID = Dictionary(uniqueKeysWithValues: hits.map { (Int($0.id.rawValue), $0.score) })
                #expect(hits.count == expected.filter { $0 > 0 }.count, "\(query["text"]!) (\(stage))")
                for (doc, score) in expected.enumerated() {
                    if score > 0 {
                        let ours = try #require(byID[doc], "\(query["text"]!): document \(doc) missing (\(stage))")
                        #expect(abs(ours - score) <= Self.tolerance, "\(query["text"]!): doc \(doc) \(ours) vs \(score)")
                        compared += 1
                    }
                }
            }
        }
        #expect(compared > 1000)
    }

    /// Words whose stems differ between Debian's libstemmer (Snowball 2.2)
    /// and PyStemmer 3.1 (which bundles Snowball 3.0): Snowball 3.0 replaced
    /// the Dutch algorithm (Kraaij-Pohlmann-style rules for doubled vowels,
    /// `ge-` prefixes and `-ë-`) and added the removal of `-et(e)` to German.
    /// Listed exactly, so any other difference, or a libstemmer upgrade that
    /// closes these, fails the test.
    static let snowball3Changes: [String: Set<String>] = [
        "german": ["arbeitete"],
        "dutch": ["mooie", "lopen", "fotografieën", "ramen", "werkten", "nationale", "gelukkig", "steden"],
    ]

    @Test("stems equal PyStemmer's in nine languages, but for Snowball 3.0's changes to Dutch and German")
    func stems() throws {
        let json = try fixture("stems") as! [String: Any]
        let languages = json["stems"] as! [String: [[String]]]
        #expect(languages.count == 9)
        var compared = 0
        for (language, pairs) in languages {
            let stemmer = try SnowballStemmer(language: language)
            var differing = Set<String>()
            for pair in pairs where stemmer.stem(pair[0]) != pair[1] { differing.insert(pair[0]) }
            #expect(differing == Self.snowball3Changes[language, default: []], "\(language)")
            compared += pairs.count - differing.count
        }
        #expect(compared > 200)
    }
}
