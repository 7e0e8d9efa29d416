/// How one retriever's scores are put on a common scale before weighted fusion.
public enum ScoreNormalization: Sendable, Hashable {
    /// Scores as they are (only meaningful when sources share a scale).
    case none
    /// (s − min) / (max − min), in [0, 1]; every score is 1 when all are equal.
    case minMax
    /// (s − mean) / standard deviation (population); 0 when all are equal.
    case zScore

    /// The per-list statistics a normalisation needs.
    struct Statistics {
        var minimum = 0.0
        var maximum = 0.0
        var mean = 0.0
        var deviation = 0.0

        init(_ scores: some Collection<Double>) {
            guard let first = scores.first else { return }
            minimum = first
            maximum = first
            var sum = 0.0
            for s in scores {
                minimum = min(minimum, s)
                maximum = max(maximum, s)
                sum += s
            }
            mean = sum / Double(scores.count)
            var squares = 0.0
            for s in scores { squares += (s - mean) * (s - mean) }
            deviation = (squares / Double(scores.count)).squareRoot()
        }
    }

    func apply(_ score: Double, _ stats: Statistics) -> Double {
        switch self {
        case .none: return score
        case .minMax:
            let span = stats.maximum - stats.minimum
            return span > 0 ? (score - stats.minimum) / span : 1
        case .zScore:
            return stats.deviation > 0 ? (score - stats.mean) / stats.deviation : 0
        }
    }
}
