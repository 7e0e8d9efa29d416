import SearchCore
import Tensor

/// Item embeddings by identifier, stored as one flat row-major buffer.
///
/// What the ranking stages that look at vectors read: MMR, near-duplicate
/// collapse, user pooling, the user–item similarity feature. Rows are
/// L2-normalised on insertion, so a dot product is a cosine.
public struct EmbeddingTable: Sendable {
    /// Components per row.
    public let dimension: Int
    /// The identifiers, in row order.
    public private(set) var ids: [VectorID] = []
    /// `ids.count × dimension` unit-length floats.
    public private(set) var values: [Float] = []
    private var rows: [VectorID: Int] = [:]

    /// An empty table; precondition `dimension > 0`.
    public init(dimension: Int) {
        precondition(dimension > 0, "an embedding table needs a positive dimension")
        self.dimension = dimension
    }

    /// The number of rows.
    public var count: Int { ids.count }

    /// Adds or replaces `id`'s vector (normalised to unit length).
    ///
    /// - Throws: ``SearchError/Code/dimensionMismatch`` for a wrong length,
    ///   ``SearchError/Code/invalidVector`` for a non-finite or zero vector.
    public mutating func set(_ id: VectorID, _ vector: [Float]) throws(SearchError) {
        try SearchError.checkDimension(vector.count, expected: dimension, "embedding of item \(id)")
        var norm = 0.0
        for v in vector {
            guard v.isFinite else { throw SearchError(.invalidVector, "embedding of item \(id) has a non-finite component") }
            norm += Double(v) * Double(v)
        }
        guard norm > 0 else { throw SearchError(.invalidVector, "embedding of item \(id) is the zero vector") }
        let inverse = Float(1 / norm.squareRoot())
        if let row = rows[id] {
            for j in 0..<dimension { values[row * dimension + j] = vector[j] * inverse }
        } else {
            rows[id] = ids.count
            ids.append(id)
            values.append(contentsOf: vector.map { $0 * inverse })
        }
    }

    /// The row of `id`, if present.
    @inlinable
    public func row(of id: VectorID) -> Int? { rowIndex(id) }

    @usableFromInline func rowIndex(_ id: VectorID) -> Int? { rows[id] }

    /// A copy of `id`'s unit vector.
    public func vector(of id: VectorID) -> [Float]? {
        guard let r = rows[id] else { return nil }
        return Array(values[(r * dimension)..<((r + 1) * dimension)])
    }

    /// cos(a, b) of two stored items (rows are unit length), or nil if either is missing.
    public func cosine(_ a: VectorID, _ b: VectorID) -> Float? {
        guard let ra = rows[a], let rb = rows[b] else { return nil }
        return values.withUnsafeBufferPointer { v in
            Kernels.active.dot(v.baseAddress! + ra * dimension, v.baseAddress! + rb * dimension, count: dimension)
        }
    }

    /// `query · row(id)` for a query of ``dimension`` floats, or nil if `id` is missing.
    public func dot(_ query: UnsafeBufferPointer<Float>, _ id: VectorID) -> Float? {
        guard let r = rows[id], query.count == dimension else { return nil }
        return values.withUnsafeBufferPointer { v in
            Kernels.active.dot(query.baseAddress!, v.baseAddress! + r * dimension, count: dimension)
        }
    }
}
