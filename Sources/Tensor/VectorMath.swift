import SearchCore

import Foundation

/// Elementwise and per-vector operations over float buffers, written in place.
///
/// These are the building blocks of the encoders (softmax in attention, layer
/// norm, GELU) and of the indices (normalisation). Each works on one vector;
/// the ``Tensor`` extensions apply them to every row of a matrix.
public enum VectorMath {
    /// Scales `x` to unit Euclidean length and returns its former norm. A zero
    /// (or non-finite) vector is left as it is; callers that need a direction
    /// check the returned norm.
    @discardableResult
    public static func l2Normalize(_ x: UnsafeMutableBufferPointer<Float>) -> Float {
        guard let p = x.baseAddress, !x.isEmpty else { return 0 }
        let norm = Kernels.active.sumOfSquares(p, count: x.count).squareRoot()
        guard norm > 0, norm.isFinite else { return norm }
        let inverse = 1 / norm
        for i in x.indices { x[i] *= inverse }
        return norm
    }

    /// Softmax in place: `x[i] ← exp(x[i] − max) / Σ exp(x[j] − max)`.
    ///
    /// Subtracting the maximum keeps every exponent ≤ 0, so nothing overflows
    /// however large the logits. A row whose entries are all −Inf, or that
    /// holds NaN, becomes NaN, as in PyTorch. An empty buffer is left alone.
    public static func softmax(_ x: UnsafeMutableBufferPointer<Float>) {
        guard !x.isEmpty else { return }
        var maximum = -Float.infinity
        for v in x {
            if v.isNaN {
                maximum = .nan
                break
            }
            maximum = Swift.max(maximum, v)
        }
        guard maximum.isFinite else {
            if maximum == .infinity {
                // +Inf logits share the mass; everything else gets none.
                let count = Float(x.reduce(0) { $0 + ($1 == .infinity ? 1 : 0) })
                for i in x.indices { x[i] = x[i] == .infinity ? 1 / count : 0 }
            } else {
                for i in x.indices { x[i] = .nan }
            }
            return
        }
        var sum: Float = 0
        for i in x.indices {
            let e = Foundation.exp(x[i] - maximum)
            x[i] = e
            sum += e
        }
        let inverse = 1 / sum
        for i in x.indices { x[i] *= inverse }
    }

    /// Layer normalisation in place: `x ← (x − mean) / sqrt(var + epsilon) · gamma + beta`,
    /// with the biased variance, as PyTorch's `LayerNorm`.
    ///
    /// Mean and variance are accumulated in double precision, two passes, so a
    /// large common offset does not cancel digits away.
    ///
    /// - Precondition: `gamma` and `beta` have `x.count` elements (or are empty for 1 and 0).
    public static func layerNorm(
        _ x: UnsafeMutableBufferPointer<Float>, gamma: UnsafeBufferPointer<Float>, beta: UnsafeBufferPointer<Float>,
        epsilon: Float = 1e-5
    ) {
        let n = x.count
        guard n > 0 else { return }
        precondition(gamma.isEmpty || gamma.count == n, "layer norm over \(n) features with \(gamma.count) gains")
        precondition(beta.isEmpty || beta.count == n, "layer norm over \(n) features with \(beta.count) biases")
        var sum = 0.0
        for v in x { sum += Double(v) }
        let mean = sum / Double(n)
        var squares = 0.0
        for v in x {
            let d = Double(v) - mean
            squares += d * d
        }
        let inverseStd = Float(1 / (squares / Double(n) + Double(epsilon)).squareRoot())
        let m = Float(mean)
        for i in 0..<n {
            var y = (x[i] - m) * inverseStd
            if !gamma.isEmpty { y *= gamma[i] }
            if !beta.isEmpty { y += beta[i] }
            x[i] = y
        }
    }

    /// How GELU is computed.
    public enum GELUApproximation: Sendable {
        /// The exact form, `x·Φ(x) = ½x(1 + erf(x/√2))` (PyTorch `approximate='none'`, BERT).
        case none
        /// The tanh form, `½x(1 + tanh(√(2/π)(x + 0.044715x³)))` (PyTorch `approximate='tanh'`).
        case tanh
    }

    /// GELU in place.
    public static func gelu(_ x: UnsafeMutableBufferPointer<Float>, approximation: GELUApproximation = .none) {
        switch approximation {
        case .none:
            let inverseSqrt2: Float = 0.707_106_781_186_547_6
            for i in x.indices {
                let v = x[i]
                x[i] = 0.5 * v * (1 + Foundation.erf(v * inverseSqrt2))
            }
        case .tanh:
            let c: Float = 0.797_884_560_802_865_4  // √(2/π)
            for i in x.indices {
                let v = x[i]
                x[i] = 0.5 * v * (1 + Foundation.tanh(c * (v + 0.044715 * v * v * v)))
            }
        }
    }

    /// QuickGELU in place, `x·σ(1.702x)`: the activation of OpenAI's CLIP.
    public static func quickGELU(_ x: UnsafeMutableBufferPointer<Float>) {
        for i in x.indices {
            let v = x[i]
            x[i] = v / (1 + Foundation.exp(-1.702 * v))
        }
    }
}

extension Tensor where Scalar == Float {
    /// Calls `body` on each row (the last dimension) of a writable copy.
    private mutating func forEachRow(_ body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        guard let width = shape.last, width > 0 else { return }
        withUnsafeMutableBufferPointer { all in
            var start = 0
            while start < all.count {
                body(UnsafeMutableBufferPointer(rebasing: all[start..<(start + width)]))
                start += width
            }
        }
    }

    /// Softmax over the last dimension, in place.
    public mutating func softmaxRows() { forEachRow(VectorMath.softmax) }

    /// Scales every row (last dimension) to unit length, in place; zero rows stay zero.
    public mutating func l2NormalizeRows() { forEachRow { VectorMath.l2Normalize($0) } }

    /// Layer normalisation over the last dimension, in place.
    ///
    /// - Throws: ``SearchError/Code/dimensionMismatch`` when `gamma` or `beta`
    ///   do not have one entry per feature.
    public mutating func layerNormRows(gamma: Tensor, beta: Tensor, epsilon: Float = 1e-5) throws(SearchError) {
        let width = shape.last ?? 0
        guard gamma.count == width, beta.count == width else {
            throw SearchError(
                .dimensionMismatch,
                "layer norm over \(width) features needs \(width) gains and biases, got \(gamma.count) and \(beta.count)")
        }
        gamma.withUnsafeBufferPointer { g in
            beta.withUnsafeBufferPointer { b in
                forEachRow { VectorMath.layerNorm($0, gamma: g, beta: b, epsilon: epsilon) }
            }
        }
    }

    /// GELU on every element, in place.
    public mutating func applyGELU(approximation: VectorMath.GELUApproximation = .none) {
        withUnsafeMutableBufferPointer { VectorMath.gelu($0, approximation: approximation) }
    }

    /// QuickGELU on every element, in place.
    public mutating func applyQuickGELU() {
        withUnsafeMutableBufferPointer { VectorMath.quickGELU($0) }
    }
}
