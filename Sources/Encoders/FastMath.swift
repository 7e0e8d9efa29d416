import Tensor

/// Layer normalisation for the encoders' inner loops, its sums through the
/// SIMD reduction kernels. (The activations, softmax and attention are C
/// kernels in Tensor: ``Tensor/Kernels/activate(_:count:_:)``,
/// ``Tensor/Kernels/attention(q:k:v:stride:tokens:headWidth:scale:causal:scratch:into:outputStride:)``.)
enum FastMath {
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
