/// How two vectors are compared.
///
/// Every index reports a *distance*: smaller is closer, for every metric, so
/// results from different metrics sort the same way. ``SearchHit/score`` turns
/// it back into a similarity where larger is better.
///
/// | metric | distance | score |
/// | --- | --- | --- |
/// | ``squaredL2`` | ‖a − b‖² | −‖a − b‖² |
/// | ``innerProduct`` | 1 − a·b (as hnswlib) | a·b |
/// | ``cosine`` | 1 − cos(a, b) | cos(a, b) |
///
/// The raw values are written to disk and never change; a new metric takes a
/// new value.
public enum Metric: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Squared Euclidean distance.
    case squaredL2 = 1
    /// Inner product (maximum inner-product search). With L2-normalised
    /// vectors this ranks exactly as ``cosine`` and is cheaper.
    case innerProduct = 2
    /// Cosine similarity. Indices normalise stored vectors and queries once,
    /// so a zero vector is rejected.
    case cosine = 3

    /// The similarity a host usually shows for a distance under this metric.
    @inlinable
    public func score(fromDistance distance: Float) -> Float {
        switch self {
        case .squaredL2: -distance
        case .innerProduct, .cosine: 1 - distance
        }
    }

    /// The distance for a similarity under this metric; inverse of ``score(fromDistance:)``.
    @inlinable
    public func distance(fromScore score: Float) -> Float {
        switch self {
        case .squaredL2: -score
        case .innerProduct, .cosine: 1 - score
        }
    }

    /// The spelling used in configuration files and command lines: `l2`, `ip`, `cosine`.
    public var description: String {
        switch self {
        case .squaredL2: "l2"
        case .innerProduct: "ip"
        case .cosine: "cosine"
        }
    }

    /// Parses ``description``'s spelling (also `squaredL2`, `innerProduct`, `dot`).
    public init?(name: String) {
        switch name.lowercased() {
        case "l2", "squaredl2", "euclidean": self = .squaredL2
        case "ip", "innerproduct", "dot": self = .innerProduct
        case "cosine", "cos": self = .cosine
        default: return nil
        }
    }
}
