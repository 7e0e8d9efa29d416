import SearchCore

/// How a ``CandidateSet``'s per-source scores become one score.
///
/// A weight missing from a `weights` dictionary is 1; a weight of 0 ignores
/// that source. Fused results are ordered by score, ties by the smaller id.
public enum ScoreFusion: Sendable, Hashable {
    /// Reciprocal rank fusion: Σ w / (k + rank). Uses ranks only, so it needs
    /// no calibration between sources.
    ///
    /// Cormack, Clarke & Büttcher (2009), "Reciprocal Rank Fusion outperforms
    /// Condorcet and individual Rank Learning Methods"; k = 60 as in the paper
    /// (and Elasticsearch, OpenSearch, Vespa).
    case reciprocalRank(k: Double = 60, weights: [String: Double] = [:])
    /// Σ w · normalise(score). A candidate absent from a source gets that
    /// source's lowest normalised score (it was not better than the worst
    /// that was returned).
    case weighted(weights: [String: Double] = [:], normalization: ScoreNormalization = .minMax)
    /// Distribution-based score fusion: each source's scores are mapped to
    /// [0, 1] between mean − 3σ and mean + 3σ of that list (clamped), then
    /// summed with weights; absent counts 0. As in Qdrant's DBSF and
    /// Mazzeschi's "Distribution-Based Score Fusion" (2023).
    case distributionBased(weights: [String: Double] = [:])
}

extension ScoreFusion {
    /// The weight this method gives `source` (1 unless its weights say otherwise).
    public func weight(of source: String) -> Double {
        switch self {
        case .reciprocalRank(_, let weights), .weighted(let weights, _), .distributionBased(let weights): weights[source] ?? 1
        }
    }
}

extension CandidateSet {
    /// The candidates ordered by fused score, best first; each carries its
    /// per-source scores in `explanation` (keyed by source) and the fused one
    /// under `"fusion"`.
    ///
    /// - Complexity: O(n log n) over n distinct candidates.
    public func fused(_ method: ScoreFusion) -> [RankedCandidate] {
        var results: [RankedCandidate] = []
        results.reserveCapacity(ids.count)
        switch method {
        case .reciprocalRank(let k, let weights):
            for id in ids {
                var total = 0.0
                for (source, s) in sourceScores(of: id) { total += (weights[source] ?? 1) / (k + Double(s.rank)) }
                results.append(candidate(id, total))
            }
        case .weighted(let weights, let normalization):
            var stats: [String: ScoreNormalization.Statistics] = [:]
            var floor: [String: Double] = [:]
            for source in sources {
                let s = ScoreNormalization.Statistics(lists[source]!.map(\.score))
                stats[source] = s
                floor[source] = normalization.apply(s.minimum, s)
            }
            for id in ids {
                let present = sourceScores(of: id)
                var total = 0.0
                for source in sources {
                    let w = weights[source] ?? 1
                    guard w != 0 else { continue }
                    if let s = present[source] { total += w * normalization.apply(s.score, stats[source]!) }
                    else { total += w * floor[source]! }
                }
                results.append(candidate(id, total))
            }
        case .distributionBased(let weights):
            var bounds: [String: (low: Double, span: Double)] = [:]
            for source in sources {
                let s = ScoreNormalization.Statistics(lists[source]!.map(\.score))
                bounds[source] = (s.mean - 3 * s.deviation, 6 * s.deviation)
            }
            for id in ids {
                var total = 0.0
                for (source, s) in sourceScores(of: id) {
                    let (low, span) = bounds[source]!
                    let unit = span > 0 ? min(max((s.score - low) / span, 0), 1) : 0.5
                    total += (weights[source] ?? 1) * unit
                }
                results.append(candidate(id, total))
            }
        }
        results.sort { $0.score > $1.score || ($0.score == $1.score && $0.id < $1.id) }
        return results
    }

    private func candidate(_ id: VectorID, _ fused: Double) -> RankedCandidate {
        var explanation: [String: Double] = [:]
        for (source, s) in sourceScores(of: id) { explanation[source] = s.score }
        explanation["fusion"] = fused
        return RankedCandidate(id: id, score: fused, explanation: explanation)
    }
}
