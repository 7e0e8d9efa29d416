import Foundation
import Ranking
import SearchCore
import Testing

@Suite("Score fusion")
struct FusionTests {
    static func set(_ lists: [String: [(VectorID, Double)]]) throws -> CandidateSet {
        var set = CandidateSet()
        for name in lists.keys.sorted() {
            try set.add(source: name, scores: lists[name]!.map { (id: $0.0, score: $0.1) })
        }
        return set
    }

    static let image: [(VectorID, Double)] = [(1, 0.9), (2, 0.8), (3, 0.7), (4, 0.1)]
    static let text: [(VectorID, Double)] = [(3, 12), (5, 11), (1, 3), (6, -2)]

    @Test func reciprocalRankMatchesTheFormula() throws {
        let fused = try Self.set(["image": Self.image, "text": Self.text]).fused(.reciprocalRank())
        let byID = Dictionary(uniqueKeysWithValues: fused.map { ($0.id, $0.score) })
        let one: Double = 1.0 / 61 + 1.0 / 63
        let five: Double = 1.0 / 62
        #expect(abs(byID[1]! - one) < 1e-15)
        #expect(abs(byID[3]! - one) < 1e-15)
        #expect(abs(byID[5]! - five) < 1e-15)
        #expect(fused.count == 6)
        // 1 and 3 tie exactly; the smaller id comes first.
        #expect(fused.prefix(2).map(\.id) == [1, 3])
        #expect(fused[0].explanation["image"] == 0.9 && fused[0].explanation["text"] == 3)
    }

    @Test func oneSourceKeepsItsOrderUnderEveryMethod() throws {
        let set = try Self.set(["text": Self.text])
        let expected: [VectorID] = [3, 5, 1, 6]
        for method in [
            ScoreFusion.reciprocalRank(), .weighted(normalization: .minMax), .weighted(normalization: .zScore),
            .weighted(normalization: .none), .distributionBased(),
        ] {
            #expect(set.fused(method).map(\.id) == expected, "\(method)")
        }
    }

    @Test func rankFusionIgnoresMonotoneRescaling() throws {
        let squashed: [(VectorID, Double)] = Self.text.map { ($0.0, 1 / (1 + exp(-$0.1))) }
        let a = try Self.set(["image": Self.image, "text": Self.text]).fused(.reciprocalRank())
        let b = try Self.set(["image": Self.image, "text": squashed]).fused(.reciprocalRank())
        #expect(a.map(\.id) == b.map(\.id))
        #expect(a.map(\.score) == b.map(\.score))
    }

    @Test func normalisedFusionIgnoresAffineRescalingOfASource() throws {
        let rescaled: [(VectorID, Double)] = Self.text.map { ($0.0, 1000 + 7 * $0.1) }
        for normalization in [ScoreNormalization.minMax, .zScore] {
            let a = try Self.set(["image": Self.image, "text": Self.text]).fused(.weighted(normalization: normalization))
            let b = try Self.set(["image": Self.image, "text": rescaled]).fused(.weighted(normalization: normalization))
            #expect(a.map(\.id) == b.map(\.id), "\(normalization)")
            for (x, y) in zip(a, b) { #expect(abs(x.score - y.score) < 1e-12) }
        }
        let a = try Self.set(["image": Self.image, "text": Self.text]).fused(.distributionBased())
        let b = try Self.set(["image": Self.image, "text": rescaled]).fused(.distributionBased())
        #expect(a.map(\.id) == b.map(\.id))
    }

    @Test func minMaxWeightedScoresAreTheWeightedSum() throws {
        let fused = try Self.set(["image": Self.image, "text": Self.text])
            .fused(.weighted(weights: ["image": 2, "text": 0.5], normalization: .minMax))
        let byID = Dictionary(uniqueKeysWithValues: fused.map { ($0.id, $0.score) })
        // image: (s − 0.1) / 0.8; text: (s + 2) / 14; absent counts the minimum, 0.
        let one: Double = 2 * 1.0 + 0.5 * 5.0 / 14
        let five: Double = 0.5 * 13.0 / 14
        #expect(abs(byID[1]! - one) < 1e-12)
        #expect(abs(byID[5]! - five) < 1e-12)
        #expect(abs(byID[4]! - 0) < 1e-12)
    }

    @Test func aZeroWeightSilencesASource() throws {
        let both = try Self.set(["image": Self.image, "text": Self.text])
        let imageOnly = try Self.set(["image": Self.image])
        for method in [ScoreFusion.reciprocalRank(weights: ["text": 0]), .distributionBased(weights: ["text": 0])] {
            let fused = both.fused(method).filter { $0.score > 0 }
            #expect(fused.map(\.id) == imageOnly.fused(.reciprocalRank()).map(\.id), "\(method)")
        }
    }

    @Test func distributionBasedScoresAreBounded() throws {
        let fused = try Self.set(["image": Self.image, "text": Self.text]).fused(.distributionBased())
        for c in fused { #expect(c.score >= 0 && c.score <= 2) }
        // An item at the top of both lists outranks one found by one list.
        let agreeing = try Self.set(["a": [(1, 5), (2, 4), (3, 1)], "b": [(1, 9), (3, 8), (4, 0)]])
        #expect(agreeing.fused(.distributionBased()).first?.id == 1)
    }

    @Test func badInputIsATypedError() throws {
        var set = CandidateSet()
        try set.add(source: "a", scores: [(id: 1, score: 1)])
        #expect(throws: SearchError.self) { try set.add(source: "a", scores: []) }
        #expect(throws: SearchError.self) { try set.add(source: "b", scores: [(id: 1, score: 1), (id: 1, score: 2)]) }
        #expect(throws: SearchError.self) { try set.add(source: "c", scores: [(id: 1, score: .nan)]) }
    }

    @Test func hitsAreScoredByTheirMetric() throws {
        var set = CandidateSet()
        try set.add(source: "l2", hits: [SearchHit(id: 9, distance: 4), SearchHit(id: 8, distance: 1)], metric: .squaredL2)
        #expect(set.sourceScores(of: 8)["l2"] == SourceScore(score: -1, rank: 1))
        #expect(set.sourceScores(of: 9)["l2"] == SourceScore(score: -4, rank: 2))
    }
}
