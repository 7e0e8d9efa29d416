import Foundation
import SearchCore
import Testing
import _TestSupport

@testable import LexicalIndex

/// The block-max WAND search against the exhaustive oracle on seeded random
/// corpora: the same documents, in the same order, with the same scores.
@Suite("Block-max WAND against exhaustive scoring")
struct BlockMaxWANDTests {
    /// Words drawn with a Zipf-like skew, so some lists span many blocks and
    /// others are short: the shapes where skipping matters.
    static func word(_ rng: inout SeededGenerator, vocabulary: Int) -> String {
        let u = Double.random(in: 0..<1, using: &rng)
        let rank = Int(pow(Double(vocabulary), u)) - 1
        return "w\(min(rank, vocabulary - 1))"
    }

    static func text(_ rng: inout SeededGenerator, words: ClosedRange<Int>, vocabulary: Int) -> String {
        (0..<Int.random(in: words, using: &rng)).map { _ in word(&rng, vocabulary: vocabulary) }.joined(separator: " ")
    }

    static let fields = [
        LexicalField(name: "caption", analyzer: .verbatim), LexicalField(name: "tags", weight: 1.5, analyzer: .verbatim),
        LexicalField(name: "fileName", weight: 0.7, analyzer: .verbatim),
    ]

    /// An index of `count` random documents over segments and a head, with some deleted and some replaced.
    static func randomIndex(seed: UInt64, count: Int, directory: String) throws -> LexicalIndex {
        var rng = SeededGenerator(seed: seed)
        let index = try LexicalIndex(
            directory: directory, configuration: .init(fields: fields), options: .init(headDocuments: count / 3 + 7, maximumSegments: 8))
        var batch: [(id: VectorID, fields: [String: String])] = []
        for i in 0..<count {
            var fields = ["caption": text(&rng, words: 1...40, vocabulary: 300)]
            if Bool.random(using: &rng) { fields["tags"] = text(&rng, words: 1...5, vocabulary: 60) }
            if Int.random(in: 0..<4, using: &rng) == 0 { fields["fileName"] = text(&rng, words: 1...3, vocabulary: 1000) }
            batch.append((VectorID(UInt64(i * 3 + 1)), fields))
            if batch.count == 97 {
                try index.add(batch)
                batch = []
            }
        }
        try index.add(batch)
        for _ in 0..<(count / 20) {
            _ = try index.remove(id: VectorID(UInt64(Int.random(in: 0..<count, using: &rng) * 3 + 1)))
        }
        for _ in 0..<(count / 50) {
            let id = VectorID(UInt64(Int.random(in: 0..<count, using: &rng) * 3 + 1))
            try index.add(id: id, fields: ["caption": text(&rng, words: 1...10, vocabulary: 300)])
        }
        return index
    }

    static func query(_ rng: inout SeededGenerator) -> LexicalQuery {
        var clauses: [LexicalQuery.Clause] = [.text(text(&rng, words: 1...6, vocabulary: 300))]
        if Int.random(in: 0..<4, using: &rng) == 0 { clauses.append(.phrase(text(&rng, words: 2...2, vocabulary: 8))) }
        if Int.random(in: 0..<5, using: &rng) == 0 { clauses.append(.prefix("w1")) }
        return LexicalQuery(clauses: clauses)
    }

    @Test("identical top-k (ids, order, scores) for random queries, k and filters", arguments: [UInt64(1), 2, 3])
    func randomQueries(seed: UInt64) throws {
        let directory = temporaryDirectory("wand")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let index = try Self.randomIndex(seed: seed, count: 1800, directory: directory)
        #expect(index.segments.count >= 2)
        var rng = SeededGenerator(seed: seed &+ 100)
        var nonEmpty = 0
        for q in 0..<45 {
            let query = Self.query(&rng)
            let k = [1, 3, 10, 50, 400][q % 5]
            let fast = try index.search(query, k: k, filter: NoFilter())
            let oracle = try index.exhaustiveSearch(query, k: k, filter: NoFilter())
            #expect(fast == oracle, "query \(query) k \(k)")
            if !fast.isEmpty { nonEmpty += 1 }
            // A filter allowing every third id: exactly min(k, allowed matches).
            let filter = PredicateFilter { $0.rawValue % 9 == 1 }
            let filtered = try index.search(query, k: k, filter: filter)
            let allAllowed = try index.exhaustiveSearch(query, k: 100_000, filter: filter)
            #expect(filtered == Array(allAllowed.prefix(k)))
            #expect(filtered.count == min(k, allAllowed.count))
            #expect(filtered.allSatisfy { $0.id.rawValue % 9 == 1 })
        }
        #expect(nonEmpty > 38)
    }

    @Test("an allow-list of few documents returns exactly those that match, however deep they rank")
    func allowList() throws {
        let directory = temporaryDirectory("allow")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let index = try Self.randomIndex(seed: 9, count: 1500, directory: directory)
        let everything = try index.exhaustiveSearch(LexicalQuery(parsing: "w0 w1 w2"), k: 100_000, filter: NoFilter())
        let deep = everything.suffix(5).map(\.id)
        let hits = try index.search("w0 w1 w2", k: 10, filter: AllowList(deep))
        #expect(Set(hits.map(\.id)) == Set(deep))
    }
}
