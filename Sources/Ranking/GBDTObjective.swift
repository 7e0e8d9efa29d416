import Foundation

/// The objective a LightGBM model was trained with, as far as scoring needs it:
/// the transform from raw scores to predictions.
///
/// Parsed from the model file's `objective=` line; the transforms are those of
/// LightGBM's objective functions' `ConvertOutput`.
public enum GBDTObjective: Sendable, Hashable {
    /// Raw score as is: `regression`, `regression_l1`, `huber`, `fair`,
    /// `quantile`, `mape`, `lambdarank`, `rank_xendcg`.
    case identity(name: String)
    /// `regression` with `reg_sqrt`: sign(x)·x².
    case signedSquare
    /// `binary` (with its `sigmoid:` parameter) and `cross_entropy` (σ = 1):
    /// 1 / (1 + exp(−σ·x)).
    case sigmoid(name: String, scale: Double)
    /// `poisson`, `gamma`, `tweedie`: exp(x).
    case exponential(name: String)
    /// `multiclass`: softmax over the classes' raw scores.
    case softmax(classes: Int)
    /// `multiclassova`: an independent sigmoid per class.
    case oneVersusAll(classes: Int, scale: Double)

    /// Applies the transform to one row's raw scores, in place.
    @inlinable
    public func transform(_ scores: UnsafeMutableBufferPointer<Double>) {
        switch self {
        case .identity:
            return
        case .signedSquare:
            for i in scores.indices {
                let x = scores[i]
                scores[i] = (x > 0 ? 1 : (x < 0 ? -1 : 0)) * x * x
            }
        case .sigmoid(_, let scale), .oneVersusAll(_, let scale):
            for i in scores.indices { scores[i] = 1 / (1 + exp(-scale * scores[i])) }
        case .exponential:
            for i in scores.indices { scores[i] = exp(scores[i]) }
        case .softmax:
            guard !scores.isEmpty else { return }
            var largest = scores[0]
            for x in scores { largest = Swift.max(x, largest) }
            var sum = 0.0
            for i in scores.indices {
                scores[i] = exp(scores[i] - largest)
                sum += scores[i]
            }
            for i in scores.indices { scores[i] /= sum }
        }
    }
}
