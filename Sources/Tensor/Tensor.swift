import SearchCore

/// A dense, row-major tensor of `Float`, ``Half`` or `Int8`, with value
/// semantics.
///
/// Copies share storage until one of them is written (copy on write); a view
/// (``rows(_:)``, ``reshaped(_:)``) shares its parent's storage without copying.
/// Element 0 of a freshly allocated tensor is 64-byte aligned.
///
/// ```swift
/// var x = try Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
/// x[1, 2] = 7
/// let firstRow = x.rows(0..<1)          // shape [1, 3], no copy
/// let y = try Tensor.matmul(x, x, transposeB: true)   // [2, 2]
/// ```
public struct Tensor<Scalar: TensorScalar>: Sendable {
    @usableFromInline var storage: TensorStorage<Scalar>
    @usableFromInline var offset: Int
    /// The extent of each dimension, outermost first.
    public private(set) var shape: [Int]

    /// A tensor of `shape` filled with `value` (zero by default).
    ///
    /// - Precondition: every extent is non-negative.
    public init(shape: [Int], repeating value: Scalar = .zero) {
        precondition(shape.allSatisfy { $0 >= 0 }, "tensor extents must be non-negative, got \(shape)")
        let count = shape.reduce(1, *)
        storage = TensorStorage(repeating: value, count: count)
        offset = 0
        self.shape = shape
    }

    /// A tensor of `shape` holding `scalars` in row-major order.
    ///
    /// - Throws: ``SearchError/Code/dimensionMismatch`` when the counts differ.
    public init(shape: [Int], scalars: [Scalar]) throws(SearchError) {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw SearchError(.invalidArgument, "tensor extents must be non-negative, got \(shape)")
        }
        let count = shape.reduce(1, *)
        guard count == scalars.count else {
            throw SearchError(
                .dimensionMismatch, "shape \(shape) holds \(count) scalars but \(scalars.count) were given")
        }
        storage = TensorStorage(capacity: count)
        offset = 0
        self.shape = shape
        scalars.withUnsafeBufferPointer { source in
            if let s = source.baseAddress { storage.base.initialize(from: s, count: count) }
        }
    }

    /// A tensor of `shape` whose scalars are written by `body` into fresh storage.
    public init(
        shape: [Int], initializingWith body: (UnsafeMutableBufferPointer<Scalar>) throws -> Void
    ) rethrows {
        self.init(shape: shape)
        try withUnsafeMutableBufferPointer(body)
    }

    /// The number of dimensions.
    @inlinable public var rank: Int { shape.count }

    /// The number of scalars.
    @inlinable public var count: Int { shape.reduce(1, *) }

    /// The number of scalars in one step of the outermost dimension.
    @inlinable public var rowStride: Int { shape.dropFirst().reduce(1, *) }

    /// The scalars in row-major order, copied into an array.
    public var scalars: [Scalar] {
        withUnsafeBufferPointer { Array($0) }
    }

    /// Calls `body` with the scalars, in row-major order.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.base + offset, count: count))
    }

    /// Calls `body` with writable scalars, copying the storage first if it is shared.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Scalar>) throws -> R
    ) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.base + offset, count: count))
    }

    @usableFromInline
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) {
            let n = count
            let fresh = TensorStorage<Scalar>(capacity: n)
            fresh.base.initialize(from: storage.base + offset, count: n)
            storage = fresh
            offset = 0
        }
    }

    /// The flat, row-major position of a multi-index.
    @inlinable
    func flatIndex(_ indices: [Int]) -> Int {
        precondition(indices.count == shape.count, "\(indices.count) indices for a rank-\(shape.count) tensor")
        var flat = 0
        for (i, extent) in zip(indices, shape) {
            precondition(i >= 0 && i < extent, "index \(indices) out of bounds for shape \(shape)")
            flat = flat * extent + i
        }
        return flat
    }

    /// The scalar at a multi-index.
    public subscript(_ indices: Int...) -> Scalar {
        get { storage.base[offset + flatIndex(indices)] }
        set {
            let flat = flatIndex(indices)
            makeUnique()
            storage.base[offset + flat] = newValue
        }
    }

    /// A view of a range of the outermost dimension; shares storage, no copy.
    ///
    /// - Precondition: rank ≥ 1 and the range lies within the first extent.
    public func rows(_ range: Range<Int>) -> Tensor {
        precondition(rank >= 1, "rows(_:) needs a tensor of rank 1 or more")
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[0], "rows \(range) out of 0..<\(shape[0])")
        var view = self
        view.offset = offset + range.lowerBound * rowStride
        view.shape[0] = range.count
        return view
    }

    /// The same scalars under another shape with the same count; no copy.
    ///
    /// - Throws: ``SearchError/Code/dimensionMismatch`` when the counts differ.
    public func reshaped(_ newShape: [Int]) throws(SearchError) -> Tensor {
        let newCount = newShape.reduce(1, *)
        guard newShape.allSatisfy({ $0 >= 0 }), newCount == count else {
            throw SearchError(
                .dimensionMismatch, "cannot reshape \(shape) (\(count) scalars) to \(newShape) (\(newCount) scalars)")
        }
        var view = self
        view.shape = newShape
        return view
    }
}

extension Tensor: Equatable {
    /// Same shape and same scalars.
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        guard lhs.shape == rhs.shape else { return false }
        return lhs.withUnsafeBufferPointer { a in rhs.withUnsafeBufferPointer { b in a.elementsEqual(b) } }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let preview = withUnsafeBufferPointer { Array($0.prefix(8)) }
        return "Tensor<\(Scalar.self)>\(shape) \(preview)\(count > 8 ? " …" : "")"
    }
}
