import SearchCore
import Tensor

/// Diversifies a ranked list by maximal marginal relevance: repeatedly picks
/// the candidate maximising λ·relevance − (1 − λ)·max cos(candidate, picked).
///
/// Carbonell & Goldstein (1998), "The use of MMR, diversity-based reranking
/// for reordering documents and producing summaries". Relevance is the
/// incoming score min-max scaled to [0, 1] over the candidates, so λ weighs
/// two quantities on the same scale; λ = 1 keeps the incoming order, λ = 0
/// only spreads. A candidate without an embedding is similar to nothing.
///
/// - Complexity: O(n·k·d) for n candidates, k picks, dimension d, with the
///   similarities computed by the one-to-many dot kernel; the candidates'
///   vectors are gathered into one contiguous buffer once per call.
public struct MaximalMarginalRelevance: Reranker {
    /// λ in [0, 1]: the weight of relevance against novelty. Default 0.7.
    public var lambda: Double
    /// How many to pick; the rest are dropped. Default 50.
    public var count: Int
    /// The item embeddings.
    public var items: EmbeddingTable

    /// A stage; preconditions: λ in [0, 1], count > 0.
    public init(lambda: Double = 0.7, count: Int = 50, items: EmbeddingTable) {
        precondition(lambda >= 0 && lambda <= 1, "MMR's λ must be in [0, 1], got \(lambda)")
        precondition(count > 0, "MMR must pick at least one candidate")
        self.lambda = lambda
        self.count = count
        self.items = items
    }

    /// Picks ``count`` candidates in MMR order; each keeps its score, with the MMR value under `"mmr"`.
    public func rerank(_ candidates: [RankedCandidate], context: RankingContext) -> [RankedCandidate] {
        let n = candidates.count
        guard n > 0 else { return [] }
        let d = items.dimension
        let k = min(count, n)
        var low = candidates[0].score, high = candidates[0].score
        for c in candidates {
            low = min(low, c.score)
            high = max(high, c.score)
        }
        let span = high - low
        let relevance = candidates.map { span > 0 ? ($0.score - low) / span : 1 }
        var vectors = [Float](repeating: 0, count: n * d)
        var hasVector = [Bool](repeating: false, count: n)
        items.values.withUnsafeBufferPointer { source in
            vectors.withUnsafeMutableBufferPointer { target in
                for (i, c) in candidates.enumerated() {
                    guard let row = items.row(of: c.id) else { continue }
                    (target.baseAddress! + i * d).update(from: source.baseAddress! + row * d, count: d)
                    hasVector[i] = true
                }
            }
        }
        var maxSimilarity = [Float](repeating: -.infinity, count: n)
        var similarity = [Float](repeating: 0, count: n)
        var picked = [Bool](repeating: false, count: n)
        var out: [RankedCandidate] = []
        out.reserveCapacity(k)
        let kernels = Kernels.active
        vectors.withUnsafeBufferPointer { v in
            for step in 0..<k {
                var best = -1
                var bestValue = -Double.infinity
                for i in 0..<n where !picked[i] {
                    let redundancy = step == 0 || !hasVector[i] ? 0 : Double(max(maxSimilarity[i], 0))
                    let value = lambda * relevance[i] - (1 - lambda) * redundancy
                    if value > bestValue {
                        bestValue = value
                        best = i
                    }
                }
                picked[best] = true
                var chosen = candidates[best]
                chosen.explanation["mmr"] = bestValue
                out.append(chosen)
                guard hasVector[best], step + 1 < k else { continue }
                similarity.withUnsafeMutableBufferPointer { s in
                    kernels.dot(v.baseAddress! + best * d, rows: v.baseAddress!, stride: d, rowCount: n, count: d,
                                into: s.baseAddress!)
                }
                for i in 0..<n where hasVector[i] && similarity[i] > maxSimilarity[i] { maxSimilarity[i] = similarity[i] }
            }
        }
        return out
    }
}
