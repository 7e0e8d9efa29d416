import Tensor

/// Vectorised element-wise functions for the encoders' inner loops: `exp`,
/// `erf`, the activations and softmax, sixteen lanes at a time.
///
/// Tensor's `VectorMath` calls the C library once per element, which costs
/// as much as the matrix products in a ViT's MLP; these run as SIMD. They
/// belong in Tensor (as `Kernels` entries); they live here until that module
/// takes them.
///
/// Accuracy: ``exp(_:)`` is Cephes' `expf` polynomial, within 2 ulp on
/// [−87, 88]; ``erf(_:)`` is Abramowitz & Stegun 7.1.26, absolute error
/// ≤ 1.5·10⁻⁷ — far below the 10⁻⁴ parity the encoders are held to.
enum FastMath {
    typealias Lanes = SIMD16<Float>

    @inline(__always)
    static func exp(_ x: Lanes) -> Lanes {
        let clamped = x.clamped(lowerBound: Lanes(repeating: -87.336_54), upperBound: Lanes(repeating: 88.376_26))
        let n = (clamped * 1.442_695_04).rounded(.toNearestOrEven)
        // r = x − n·ln2, in two parts for precision (Cody–Waite).
        var r = clamped - n * 0.693_359_375
        r = r + n * 2.121_944_4e-4
        var p = Lanes(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_6e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_1e-1
        p = p * (r * r) + r + 1
        let exponent = (SIMD16<Int32>(n, rounding: .towardZero) &+ 127) &<< 23
        return p * unsafeBitCast(exponent, to: Lanes.self)
    }

    @inline(__always)
    static func erf(_ x: Lanes) -> Lanes {
        let a = x.replacing(with: -x, where: x .< 0)
        let t = 1 / (1 + 0.327_591_1 * a)
        var y = Lanes(repeating: 1.061_405_429)
        y = y * t - 1.453_152_027
        y = y * t + 1.421_413_741
        y = y * t - 0.284_496_736
        y = y * t + 0.254_829_592
        y = 1 - y * t * exp(-a * a)
        return y.replacing(with: -y, where: x .< 0)
    }

    /// Applies `body` to `count` floats at `x`, sixteen at a time, the tail padded.
    @inline(__always)
    static func map(_ x: UnsafeMutablePointer<Float>, count: Int, _ body: (Lanes) -> Lanes) {
        var i = 0
        let raw = UnsafeMutableRawPointer(x)
        while i + 16 <= count {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: Lanes.self)
            raw.storeBytes(of: body(v), toByteOffset: i * 4, as: Lanes.self)
            i += 16
        }
        if i < count {
            var v = Lanes(repeating: 0)
            for j in 0..<(count - i) { v[j] = x[i + j] }
            let y = body(v)
            for j in 0..<(count - i) { x[i + j] = y[j] }
        }
    }

    /// GELU, exact form `½x(1 + erf(x/√2))`, in place.
    static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        map(x, count: count) { v in 0.5 * v * (1 + erf(v * 0.707_106_781_186_547_6)) }
    }

    /// GELU, tanh form, in place: `½x(1 + tanh(√(2/π)(x + 0.044715x³)))`, tanh(u) = 1 − 2/(e^{2u}+1).
    static func geluTanh(_ x: UnsafeMutablePointer<Float>, count: Int) {
        map(x, count: count) { v in
            let u = 0.797_884_560_802_865_4 * (v + 0.044715 * v * v * v)
            let tanh = 1 - 2 / (exp(2 * u) + 1)
            return 0.5 * v * (1 + tanh)
        }
    }

    /// QuickGELU, `x·σ(1.702x)`, in place.
    static func quickGELU(_ x: UnsafeMutablePointer<Float>, count: Int) {
        map(x, count: count) { v in v / (1 + exp(-1.702 * v)) }
    }

    /// Softmax of `count` logits in place (max subtracted first, so nothing overflows).
    static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        guard count > 0 else { return }
        var maximum = x[0]
        for i in 1..<count { maximum = Swift.max(maximum, x[i]) }
        var sum: Float = 0
        map(x, count: count) { v in exp(v - maximum) }
        for i in 0..<count { sum += x[i] }
        let inverse = 1 / sum
        for i in 0..<count { x[i] *= inverse }
    }

    /// Layer normalisation of one row in place (biased variance, as PyTorch),
    /// mean and variance accumulated in double precision over two passes.
    static func layerNorm(
        _ x: UnsafeMutablePointer<Float>, count: Int, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        epsilon: Float
    ) {
        var sum = 0.0
        for i in 0..<count { sum += Double(x[i]) }
        let mean = sum / Double(count)
        var squares = 0.0
        for i in 0..<count {
            let d = Double(x[i]) - mean
            squares += d * d
        }
        let inverseStd = Float(1 / (squares / Double(count) + Double(epsilon)).squareRoot())
        let m = Float(mean)
        for i in 0..<count { x[i] = (x[i] - m) * inverseStd * gamma[i] + beta[i] }
    }
}
