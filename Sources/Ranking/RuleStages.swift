import SearchCore

/// Keeps only the candidates a ``SearchFilter`` allows (in stock, safe, not
/// already seen). Generic over the filter, so its check is specialised.
public struct FilterStage<Filter: SearchFilter>: Reranker {
    /// The filter.
    public var filter: Filter

    /// A stage.
    public init(_ filter: Filter) { self.filter = filter }

    /// The allowed candidates, order kept.
    public func rerank(_ candidates: [RankedCandidate], context: RankingContext) -> [RankedCandidate] {
        candidates.filter { filter.allows($0.id) }
    }
}

/// Multiplies chosen candidates' scores (a promotion, a sponsored lift, a
/// demotion below 1), then reorders by score; ties keep the incoming order.
/// Scores should be positive for a multiplier to mean what it says.
public struct BoostStage: Reranker {
    /// Score multipliers by item.
    public var multipliers: [VectorID: Double]

    /// A stage; precondition: every multiplier is finite and ≥ 0.
    public init(_ multipliers: [VectorID: Double]) {
        precondition(multipliers.values.allSatisfy { $0 >= 0 && $0.isFinite }, "boost multipliers must be finite and ≥ 0")
        self.multipliers = multipliers
    }

    /// The candidates rescored and reordered; boosted ones record `"boost"` in their explanation.
    public func rerank(_ candidates: [RankedCandidate], context: RankingContext) -> [RankedCandidate] {
        var out = candidates
        for i in out.indices {
            if let m = multipliers[out[i].id] {
                out[i].score *= m
                out[i].explanation["boost"] = m
            }
        }
        let order = out.indices.sorted { out[$0].score > out[$1].score || (out[$0].score == out[$1].score && $0 < $1) }
        return order.map { out[$0] }
    }
}

/// Puts chosen items at fixed positions (0-based), when they are among the
/// candidates; the others keep their relative order around them. An item
/// pinned past the end goes last.
public struct PinStage: Reranker {
    /// Position by item.
    public var positions: [VectorID: Int]

    /// A stage; precondition: positions are ≥ 0 and distinct.
    public init(_ positions: [VectorID: Int]) {
        precondition(positions.values.allSatisfy { $0 >= 0 }, "pin positions must be ≥ 0")
        precondition(Set(positions.values).count == positions.count, "two items are pinned to the same position")
        self.positions = positions
    }

    /// The candidates with pinned ones moved into place.
    public func rerank(_ candidates: [RankedCandidate], context: RankingContext) -> [RankedCandidate] {
        let pinned = candidates.filter { positions[$0.id] != nil }.sorted { positions[$0.id]! < positions[$1.id]! }
        var rest = candidates.filter { positions[$0.id] == nil }[...]
        var out: [RankedCandidate] = []
        out.reserveCapacity(candidates.count)
        var next = pinned[...]
        while out.count < candidates.count {
            if let p = next.first, positions[p.id]! <= out.count || rest.isEmpty {
                var c = p
                c.explanation["pinned"] = Double(positions[p.id]!)
                out.append(c)
                next = next.dropFirst()
            } else {
                out.append(rest.removeFirst())
            }
        }
        return out
    }
}

/// Keeps the first `count` candidates.
public struct TruncateStage: Reranker {
    /// How many to keep.
    public var count: Int

    /// A stage; precondition: count ≥ 0.
    public init(_ count: Int) {
        precondition(count >= 0, "cannot keep a negative number of candidates")
        self.count = count
    }

    /// The first ``count`` candidates.
    public func rerank(_ candidates: [RankedCandidate], context: RankingContext) -> [RankedCandidate] {
        Array(candidates.prefix(count))
    }
}
