import SearchCore

/// An INT8 matrix with symmetric scales: `value ≈ scale · code`, codes in −127…127.
///
/// Symmetric max-abs scaling, one scale per row or per column:
/// `scale = max|x| / 127` over that row (or column), `code = rint(x / scale)`.
///
/// **Error bound.** Each reconstructed value is within half a step of the
/// original: `|x − scale·code| ≤ scale / 2 = max|x| / 254` over its row (or
/// column), about 0.39% of the largest magnitude. An all-zero row has scale 0
/// and reconstructs exactly.
///
/// - ``QuantizationAxis/rows``: one scale per row. For stored vectors (one
///   vector per row) this is per-vector scaling; for a weight stored
///   `[out, in]` as PyTorch's `Linear` does, it is per output channel.
/// - ``QuantizationAxis/columns``: one scale per column, for weights stored `[in, out]`.
public struct Int8Matrix: Sendable, Equatable {
    /// The codes, same shape as the source matrix.
    public var codes: Tensor<Int8>
    /// One scale per row or per column, as ``axis`` says.
    public var scales: [Float]
    /// Which way the scales run.
    public var axis: QuantizationAxis

    /// The matrix the codes stand for.
    public func dequantized() -> Tensor<Float> {
        let rows = codes.shape[0], cols = codes.shape[1]
        var result = Tensor<Float>(shape: [rows, cols])
        let kernels = Kernels.active
        codes.withUnsafeBufferPointer { c in
            result.withUnsafeMutableBufferPointer { out in
                switch axis {
                case .rows:
                    for r in 0..<rows {
                        kernels.dequantize(
                            c.baseAddress! + r * cols, count: cols, scale: scales[r], into: out.baseAddress! + r * cols)
                    }
                case .columns:
                    for r in 0..<rows {
                        for j in 0..<cols { out[r * cols + j] = Float(c[r * cols + j]) * scales[j] }
                    }
                }
            }
        }
        return result
    }
}

/// The direction along which one INT8 scale is shared.
public enum QuantizationAxis: UInt8, Sendable {
    /// One scale per row.
    case rows = 0
    /// One scale per column.
    case columns = 1
}

extension VectorMath {
    /// Quantizes one vector symmetrically to INT8 and returns its scale
    /// (`max|x| / 127`; 0 for an all-zero vector). See ``Int8Matrix`` for the error bound.
    ///
    /// - Precondition: `codes.count == x.count` and every element is finite.
    @discardableResult
    public static func quantize(
        _ x: UnsafeBufferPointer<Float>, into codes: UnsafeMutableBufferPointer<Int8>,
        kernels: Kernels = .active
    ) -> Float {
        precondition(codes.count == x.count, "quantizing \(x.count) values into \(codes.count) codes")
        guard let px = x.baseAddress, let pc = codes.baseAddress else { return 0 }
        let maximum = kernels.maxMagnitude(px, count: x.count)
        precondition(maximum.isFinite, "quantizing a vector with NaN or infinite components")
        guard maximum > 0 else {
            pc.update(repeating: 0, count: x.count)
            return 0
        }
        let scale = maximum / 127
        kernels.quantize(px, count: x.count, inverseScale: 127 / maximum, into: pc)
        return scale
    }
}

extension Tensor where Scalar == Float {
    /// This matrix in INT8 with symmetric scales along `axis`.
    ///
    /// - Throws: ``SearchError/Code/dimensionMismatch`` for a tensor that is not
    ///   a matrix, ``SearchError/Code/invalidVector`` for NaN or ±Inf (naming the row).
    public func quantizedInt8(along axis: QuantizationAxis = .rows) throws(SearchError) -> Int8Matrix {
        guard rank == 2 else {
            throw SearchError(.dimensionMismatch, "INT8 quantization takes a matrix, got shape \(shape)")
        }
        let rows = shape[0], cols = shape[1]
        var codes = Tensor<Int8>(shape: [rows, cols])
        var scales = [Float](repeating: 0, count: axis == .rows ? rows : cols)
        let kernels = Kernels.active
        let badRow: Int? = withUnsafeBufferPointer { x in
            for r in 0..<rows {
                guard cols > 0, let row = x.baseAddress?.advanced(by: r * cols) else { return nil }
                if !kernels.maxMagnitude(row, count: cols).isFinite { return r }
            }
            return nil
        }
        if let badRow {
            throw SearchError(.invalidVector, "row \(badRow) holds NaN or an infinite value; it cannot be quantized")
        }
        withUnsafeBufferPointer { x in
            codes.withUnsafeMutableBufferPointer { c in
                switch axis {
                case .rows:
                    for r in 0..<rows {
                        scales[r] = VectorMath.quantize(
                            UnsafeBufferPointer(rebasing: x[(r * cols)..<((r + 1) * cols)]),
                            into: UnsafeMutableBufferPointer(rebasing: c[(r * cols)..<((r + 1) * cols)]),
                            kernels: kernels)
                    }
                case .columns:
                    var maxima = [Float](repeating: 0, count: cols)
                    for r in 0..<rows {
                        for j in 0..<cols { maxima[j] = Swift.max(maxima[j], abs(x[r * cols + j])) }
                    }
                    for j in 0..<cols { scales[j] = maxima[j] / 127 }
                    for r in 0..<rows {
                        for j in 0..<cols {
                            let m = maxima[j]
                            let v = m > 0 ? (x[r * cols + j] * (127 / m)).rounded(.toNearestOrEven) : 0
                            c[r * cols + j] = Int8(Swift.max(-127, Swift.min(127, v)))
                        }
                    }
                }
            }
        }
        return Int8Matrix(codes: codes, scales: scales, axis: axis)
    }

    /// This tensor in half precision (round to nearest even; beyond ±65504 becomes ±Inf).
    public func toHalf() -> Tensor<Half> {
        var result = Tensor<Half>(shape: shape)
        let n = count
        withUnsafeBufferPointer { src in
            result.withUnsafeMutableBufferPointer { dst in
                if n > 0 { Kernels.active.convert(src.baseAddress!, to: dst.baseAddress!, count: n) }
            }
        }
        return result
    }
}

extension Tensor where Scalar == Half {
    /// This tensor widened to single precision (exact).
    public func toFloat() -> Tensor<Float> {
        var result = Tensor<Float>(shape: shape)
        let n = count
        withUnsafeBufferPointer { src in
            result.withUnsafeMutableBufferPointer { dst in
                if n > 0 { Kernels.active.convert(src.baseAddress!, to: dst.baseAddress!, count: n) }
            }
        }
        return result
    }
}
