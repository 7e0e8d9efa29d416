import Foundation
import Ranking
import SearchCore
import Testing

@Suite("Diversity and rule stages")
struct StageTests {
    /// Items in `clusters` tight clusters of `perCluster` around orthogonal axes, ids cluster·100 + i.
    static func clustered(clusters: Int, perCluster: Int, dimension: Int = 16, seed: UInt64 = 5) throws -> EmbeddingTable {
        var rng = SeededGenerator(seed: seed)
        var table = EmbeddingTable(dimension: dimension)
        for c in 0..<clusters {
            let center = (0..<dimension).map { $0 == c ? Float(1) : 0 }
            for i in 0..<perCluster {
                try table.set(VectorID(UInt64(c * 100 + i)), center.map { $0 + 0.1 * Float(rng.normal()) })
            }
        }
        return table
    }

    static let context = RankingContext(now: Date(timeIntervalSince1970: 0))

    /// MMR by its definition, recomputing every similarity each step, in double.
    static func naiveMMR(_ candidates: [RankedCandidate], lambda: Double, k: Int, table: EmbeddingTable) -> [VectorID] {
        let lo = candidates.map(\.score).min()!, hi = candidates.map(\.score).max()!
        var picked: [Int] = []
        func cos(_ a: Int, _ b: Int) -> Double {
            let x = table.vector(of: candidates[a].id)!, y = table.vector(of: candidates[b].id)!
            return zip(x, y).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        while picked.count < min(k, candidates.count) {
            var best = -1, bestValue = -Double.infinity
            for i in candidates.indices where !picked.contains(i) {
                let rel = hi > lo ? (candidates[i].score - lo) / (hi - lo) : 1
                let red = picked.isEmpty ? 0 : max(picked.map { cos(i, $0) }.max()!, 0)
                let v = lambda * rel - (1 - lambda) * red
                if v > bestValue { bestValue = v; best = i }
            }
            picked.append(best)
        }
        return picked.map { candidates[$0].id }
    }

    @Test func mmrMatchesItsDefinition() throws {
        let table = try Self.clustered(clusters: 6, perCluster: 10)
        var rng = SeededGenerator(seed: 9)
        let candidates = table.ids.map { RankedCandidate(id: $0, score: rng.uniform()) }.sorted { $0.score > $1.score }
        for lambda in [0.0, 0.3, 0.7, 1.0] {
            let mmr = MaximalMarginalRelevance(lambda: lambda, count: 15, items: table).rerank(candidates, context: Self.context)
            #expect(mmr.map(\.id) == Self.naiveMMR(candidates, lambda: lambda, k: 15, table: table), "λ = \(lambda)")
        }
    }

    @Test func mmrSpreadsAcrossClustersAndLambdaOneKeepsOrder() throws {
        let table = try Self.clustered(clusters: 5, perCluster: 10)
        // Cluster 0 holds the ten best scores.
        let candidates = table.ids.map { RankedCandidate(id: $0, score: 1000 - Double($0.rawValue)) }
        let keep = MaximalMarginalRelevance(lambda: 1, count: 5, items: table).rerank(candidates, context: Self.context)
        #expect(keep.map(\.id) == Array(candidates.prefix(5).map(\.id)))
        let spread = MaximalMarginalRelevance(lambda: 0.2, count: 5, items: table).rerank(candidates, context: Self.context)
        #expect(Set(spread.map { $0.id.rawValue / 100 }).count == 5)
        #expect(spread.first?.id == candidates.first?.id)
    }

    @Test func nearDuplicatesCollapseToTheBest() throws {
        var table = EmbeddingTable(dimension: 3)
        try table.set(1, [1, 0, 0])
        try table.set(2, [0.999, 0.01, 0])  // duplicate of 1
        try table.set(3, [0, 1, 0])
        try table.set(4, [0.7, 0.7, 0])  // cos 0.707 with 1 and 3
        let candidates: [RankedCandidate] = [2, 1, 3, 4, 5].map { RankedCandidate(id: $0, score: 1) }
        let out = NearDuplicateCollapse(threshold: 0.95, items: table).rerank(candidates, context: Self.context)
        #expect(out.map(\.id) == [2, 3, 4, 5])  // 1 duplicates the better 2; 5 has no vector
        let strict = NearDuplicateCollapse(threshold: 0.7, items: table).rerank(candidates, context: Self.context)
        #expect(strict.map(\.id) == [2, 3, 5])
        // Without embeddings nothing is a duplicate, and MMR keeps the incoming order.
        let empty = EmbeddingTable(dimension: 3)
        #expect(NearDuplicateCollapse(items: empty).rerank(candidates, context: Self.context).map(\.id) == candidates.map(\.id))
        #expect(MaximalMarginalRelevance(lambda: 0.5, count: 3, items: empty).rerank(candidates, context: Self.context).count == 3)
    }

    @Test func rulesComposeAndNeverInventCandidates() throws {
        let candidates: [RankedCandidate] = (1...8).map { RankedCandidate(id: VectorID(UInt64($0)), score: 10 - Double($0)) }
        let pipeline = RerankPipeline([
            FilterStage(DenyList([2, 5])),
            BoostStage([7: 10]),  // 3 × 10 = 30: to the top
            PinStage([8: 0, 1: 3]),
            TruncateStage(5),
        ])
        let out = try pipeline.rerank(candidates, context: Self.context)
        #expect(out.map(\.id) == [8, 7, 3, 1, 4])
        #expect(out[1].explanation["boost"] == 10)
        #expect(out[0].explanation["pinned"] == 0)
        #expect(Set(out.map(\.id)).isSubset(of: Set(candidates.map(\.id))))
        // A pin for an item not among the candidates adds nothing.
        let pinned = PinStage([99: 0]).rerank(candidates, context: Self.context)
        #expect(pinned.map(\.id) == candidates.map(\.id))
        // A pin past the end goes last.
        let late = PinStage([1: 50]).rerank(Array(candidates.prefix(3)), context: Self.context)
        #expect(late.map(\.id) == [2, 3, 1])
    }
}
