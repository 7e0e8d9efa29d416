import SearchCore
import Tensor

/// Drops candidates that are near-duplicates of a better one: walking best
/// first, a candidate whose cosine with any kept candidate is at least
/// ``threshold`` is removed (reposts, crops, re-encodes of the same image).
///
/// - Complexity: O(n · kept · d).
public struct NearDuplicateCollapse: Reranker {
    /// Cosine at or above which two items count as duplicates. Default 0.95.
    public var threshold: Float
    /// The item embeddings; a candidate without one is never a duplicate.
    public var items: EmbeddingTable

    /// A stage; precondition: threshold in [−1, 1].
    public init(threshold: Float = 0.95, items: EmbeddingTable) {
        precondition(threshold >= -1 && threshold <= 1, "a cosine threshold must be in [-1, 1], got \(threshold)")
        self.threshold = threshold
        self.items = items
    }

    /// The candidates without near-duplicates of better ones, order kept.
    public func rerank(_ candidates: [RankedCandidate], context: RankingContext) -> [RankedCandidate] {
        guard items.count > 0 else { return candidates }
        let d = items.dimension
        let kernels = Kernels.active
        var keptRows: [Int] = []
        var out: [RankedCandidate] = []
        items.values.withUnsafeBufferPointer { v in
            let base = v.baseAddress!
            for c in candidates {
                guard let row = items.row(of: c.id) else {
                    out.append(c)
                    continue
                }
                var duplicate = false
                for kept in keptRows where kernels.dot(base + row * d, base + kept * d, count: d) >= threshold {
                    duplicate = true
                    break
                }
                if !duplicate {
                    keptRows.append(row)
                    out.append(c)
                }
            }
        }
        return out
    }
}
