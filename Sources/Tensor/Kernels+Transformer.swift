import CSearchKernels

/// An element-wise activation applied by ``Kernels/activate(_:count:_:)`` and
/// fused into ``LinearLayerMatrix``'s product. Raw values are the C kernels'.
public enum KernelActivation: Int32, Sendable, CaseIterable {
    /// `x`.
    case identity = 0
    /// `½x(1 + erf(x/√2))` (erf by Abramowitz & Stegun 7.1.26, absolute error ≤ 1.5·10⁻⁷).
    case gelu = 1
    /// `½x(1 + tanh(√(2/π)(x + 0.044715x³)))`.
    case geluTanh = 2
    /// `x·σ(1.702x)`, OpenAI CLIP's QuickGELU.
    case quickGELU = 3
}

// MARK: - Transformer kernels (unchecked, for inner loops)

extension Kernels {
    /// `x[i] = f(x[i])` in place; `e^x` within 2 ulp (Cephes' `expf`).
    @inlinable @inline(__always)
    public func activate(_ x: UnsafeMutablePointer<Float>, count: Int, _ activation: KernelActivation) {
        activationF32(x, count, activation.rawValue)
    }

    /// Softmax of `count` logits in place, the maximum subtracted first (so nothing overflows).
    @inlinable @inline(__always)
    public func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        softmaxF32(x, count)
    }

    /// Floats of scratch ``attention(q:k:v:stride:tokens:headWidth:scale:causal:scratch:into:outputStride:)``
    /// needs for `tokens` tokens of `headWidth` components.
    @inlinable
    public static func attentionScratchCount(tokens: Int, headWidth: Int) -> Int {
        mms_attention_scratch_count(tokens, headWidth)
    }

    /// Scaled dot-product attention of one sequence and head (Vaswani et al. 2017):
    /// `out[i] = Σ_j softmax_j(scale · q_i·k_j) · v_j` for `i, j < tokens`, each row
    /// `headWidth` floats. Row `t` of `q`, `k` and `v` starts `t·stride` floats in,
    /// so they can be read in place from a fused projection; output row `i` starts
    /// at `out + i·outputStride`. With `causal`, token `i` attends only to `j ≤ i`.
    ///
    /// - Parameter scratch: at least ``attentionScratchCount(tokens:headWidth:)`` floats.
    @inlinable @inline(__always)
    public func attention(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, stride: Int, tokens: Int,
        headWidth: Int, scale: Float, causal: Bool, scratch: UnsafeMutablePointer<Float>,
        into out: UnsafeMutablePointer<Float>, outputStride: Int
    ) {
        attentionF32(q, k, v, stride, tokens, headWidth, scale, causal ? 1 : 0, scratch, out, outputStride)
    }
}
