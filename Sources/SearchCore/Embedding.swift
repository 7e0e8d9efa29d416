/// A dense vector produced by an encoder.
///
/// A plain value: use it to move one vector between products. Batch APIs take
/// and fill flat `Float` buffers instead, so no array is allocated per vector.
@frozen
public struct Embedding: Hashable, Sendable {
    /// The components.
    public var values: [Float]

    @inlinable
    /// Wraps components as an embedding.
    public init(_ values: [Float]) { self.values = values }

    /// The number of components.
    @inlinable
    public var dimension: Int { values.count }

    /// The Euclidean norm, accumulated in double precision.
    public var norm: Float {
        var sum = 0.0
        for value in values { sum += Double(value) * Double(value) }
        return Float(sum.squareRoot())
    }

    /// The vector scaled to unit length; a zero vector stays zero.
    public func normalized() -> Embedding {
        let n = norm
        guard n > 0, n.isFinite else { return self }
        let inverse = 1 / n
        return Embedding(values.map { $0 * inverse })
    }

    /// True when every component is finite (no NaN or ±Inf).
    public var isFinite: Bool { values.allSatisfy(\.isFinite) }
}
