import Tensor

/// Element-wise functions for the encoders' inner loops: `exp`, `erf`, the
/// activations, softmax and layer norm, written so the optimiser vectorises them.
///
/// Tensor's `VectorMath` calls the C library once per element, which costs
/// as much as the matrix products in a ViT's MLP. They
/// belong in Tensor (as `Kernels` entries); they live here until that module
/// takes them.
///
/// Accuracy: ``exp(_:)`` is Cephes' `expf` polynomial, within 2 ulp on
/// [−87, 88]; ``erf(_:)`` is Abramowitz & Stegun 7.1.26, absolute error
/// ≤ 1.5·10⁻⁷ — far below the 10⁻⁴ parity the encoders are held to.
enum FastMath {
    /// `e^x`: Cody–Waite range reduction, Cephes' degree-6 polynomial, the
    /// exponent put back through the bit pattern. Scalar code on purpose:
    /// plain `Float` arithmetic stays fast in debug builds and the
    /// optimiser vectorises the loops that call it.
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        let clamped = Swift.min(Swift.max(x, -87.336_54), 88.376_26)
        // Adding 1.5·2²³ rounds to the nearest integer (ties to even) and
        // leaves it in the low mantissa bits: no conversion that could trap,
        // so the loop vectorises.
        let shifter: Float = 12_582_912
        let k = clamped * 1.442_695_04 + shifter
        let n = k - shifter
        var r = clamped - n * 0.693_359_375
        r = r + n * 2.121_944_4e-4
        var p: Float = 1.987_569_15e-4
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_6e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_1e-1
        p = p * (r * r) + r + 1
        let exponent = (k.bitPattern &- shifter.bitPattern &+ 127) &<< 23
        return p * Float(bitPattern: exponent)
    }

    /// `erf(x)`, Abramowitz & Stegun 7.1.26.
    @inline(__always)
    static func erf(_ x: Float) -> Float {
        let a = Swift.abs(x)
        let t = 1 / (1 + 0.327_591_1 * a)
        var y: Float = 1.061_405_429
        y = y * t - 1.453_152_027
        y = y * t + 1.421_413_741
        y = y * t - 0.284_496_736
        y = y * t + 0.254_829_592
        y = 1 - y * t * exp(-a * a)
        return Float(bitPattern: y.bitPattern | (x.bitPattern & 0x8000_0000))
    }

    /// GELU, exact form `½x(1 + erf(x/√2))`, in place.
    static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let v = x[i]
            x[i] = 0.5 * v * (1 + erf(v * 0.707_106_781_186_547_6))
        }
    }

    /// GELU, tanh form, in place: `½x(1 + tanh(√(2/π)(x + 0.044715x³)))`, tanh(u) = 1 − 2/(e^{2u}+1).
    static func geluTanh(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let v = x[i]
            let u = 0.797_884_560_802_865_4 * (v + 0.044715 * v * v * v)
            x[i] = 0.5 * v * (2 - 2 / (exp(2 * u) + 1))
        }
    }

    /// QuickGELU, `x·σ(1.702x)`, in place.
    static func quickGELU(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let v = x[i]
            x[i] = v / (1 + exp(-1.702 * v))
        }
    }

    /// Softmax of `count` logits in place (max subtracted first, so nothing overflows).
    static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        guard count > 0 else { return }
        var maximum = x[0]
        for i in 1..<count { maximum = Swift.max(maximum, x[i]) }
        var sum: Float = 0
        for i in 0..<count {
            let e = exp(x[i] - maximum)
            x[i] = e
            sum += e
        }
        let inverse = 1 / sum
        for i in 0..<count { x[i] *= inverse }
    }

    /// Layer normalisation of one row in place (biased variance, as PyTorch),
    /// two passes — mean, then the mean square of the centred values — the
    /// sums through the SIMD reduction kernels, so a large common offset does
    /// not cancel digits away and nothing runs one lane at a time.
    static func layerNorm(
        _ x: UnsafeMutablePointer<Float>, count: Int, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        epsilon: Float, kernels: Kernels = .active
    ) {
        let mean = kernels.sum(x, count: count) / Float(count)
        for i in 0..<count { x[i] -= mean }
        let variance = kernels.sumOfSquares(x, count: count) / Float(count)
        let inverseStd = 1 / (variance + epsilon).squareRoot()
        for i in 0..<count { x[i] = x[i] * inverseStd * gamma[i] + beta[i] }
    }
}
