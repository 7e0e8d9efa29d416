import Foundation
import Testing
import _TestSupport

@testable import Tensor

/// The transformer kernels (activations, softmax, one head's attention) in every
/// variant this CPU supports, and ``LinearLayerMatrix`` in both layouts, against
/// double-precision references.
@Suite("Transformer kernels and the packed linear layer")
struct TransformerKernelTests {
    static func reference(_ x: Double, _ activation: KernelActivation) -> Double {
        switch activation {
        case .identity: x
        case .gelu: 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
        case .geluTanh: 0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
        case .quickGELU: x / (1 + exp(-1.702 * x))
        }
    }

    @Test("activations match their definitions", arguments: KernelActivation.allCases)
    func activations(_ activation: KernelActivation) {
        var rng = SeededGenerator(seed: 41)
        // Mostly the range activations see, plus large magnitudes where e^x saturates.
        let values = rng.floats(1000, in: -8...8) + [0, -0.0, 1e-6, -1e-6, 30, -30, 90, -90, 500, -500]
        for kernels in Kernels.supported {
            for count in [0, 1, 15, 16, 17, values.count] {
                var x = Array(values.prefix(count))
                x.withUnsafeMutableBufferPointer { kernels.activate($0.baseAddress!, count: count, activation) }
                for i in 0..<count {
                    let expected = Self.reference(Double(values[i]), activation)
                    // A&S 7.1.26's erf is within 1.5e-7 absolute; e^x within 2 ulp; then a few roundings.
                    let tolerance = 4e-7 * max(1, abs(Double(values[i]))) + 4 * Double(Float.ulpOfOne) * abs(expected)
                    #expect(
                        abs(Double(x[i]) - expected) <= tolerance,
                        "\(kernels.level) \(activation)(\(values[i])) = \(x[i]), expected \(expected)")
                }
            }
        }
    }

    @Test("GELU saturates exactly: x from 9 up, 0 from −9 down, at every level")
    func geluSaturation() {
        // From |x/√2| ≈ 6 up, A&S 7.1.26's correction is under half an ulp of 1: erf is exactly ±1.
        let values: [Float] = [9, 9.5, 13.5, 14, 20, 1e4, -9, -9.5, -13.5, -14, -20, -1e4, .infinity]
        for kernels in Kernels.supported {
            var x = values
            x.withUnsafeMutableBufferPointer { kernels.activate($0.baseAddress!, count: $0.count, .gelu) }
            for (input, output) in zip(values, x) {
                #expect(output == max(input, 0), "\(kernels.level) gelu(\(input)) = \(output)")
            }
        }
    }

    @Test("softmax sums to one, matches the definition and survives huge logits", arguments: [1, 7, 16, 17, 50, 77, 300])
    func softmax(count: Int) {
        var rng = SeededGenerator(seed: UInt64(count) + 5)
        var logits = rng.floats(count, in: -12...12)
        logits[count / 2] = 1e30  // would overflow e^x without the maximum subtracted
        let top = logits.map(Double.init).max()!
        let exps = logits.map { exp(Double($0) - top) }
        let total = exps.reduce(0, +)
        for kernels in Kernels.supported {
            var x = logits
            x.withUnsafeMutableBufferPointer { kernels.softmax($0.baseAddress!, count: count) }
            for i in 0..<count {
                #expect(abs(Double(x[i]) - exps[i] / total) <= 1e-6, "\(kernels.level) softmax[\(i)] of \(count)")
            }
            #expect(abs(x.map(Double.init).reduce(0, +) - 1) <= 1e-5)
        }
    }

    @Test(
        "attention of one head matches a double reference, in place in a fused projection",
        arguments: [(1, 64), (4, 64), (5, 16), (50, 64), (77, 64), (33, 80), (20, 8), (130, 32)])
    func attention(shape: (Int, Int)) {
        let (n, d) = shape
        let heads = 3, width = heads * d, stride = 3 * width, outputStride = width + 5
        var rng = SeededGenerator(seed: UInt64(n * 131 + d))
        let qkv = rng.floats(n * stride, in: -2...2)
        let scale = 1 / Float(d).squareRoot()
        for kernels in Kernels.supported {
            for causal in [false, true] {
                for h in [0, heads - 1] {
                    let q = h * d, k = width + h * d, v = 2 * width + h * d
                    var out = [Float](repeating: .nan, count: n * outputStride)
                    var scratch = [Float](repeating: .nan, count: Kernels.attentionScratchCount(tokens: n, headWidth: d))
                    qkv.withUnsafeBufferPointer { p in
                        let base = p.baseAddress!
                        out.withUnsafeMutableBufferPointer { o in
                            scratch.withUnsafeMutableBufferPointer { s in
                                kernels.attention(
                                    q: base + q, k: base + k, v: base + v, stride: stride, tokens: n, headWidth: d,
                                    scale: scale, causal: causal, scratch: s.baseAddress!, into: o.baseAddress!,
                                    outputStride: outputStride)
                            }
                        }
                    }
                    var worst = 0.0
                    for i in 0..<n {
                        let limit = causal ? i + 1 : n
                        var logits = [Double](repeating: 0, count: limit)
                        for j in 0..<limit {
                            var dot = 0.0
                            for c in 0..<d { dot += Double(qkv[i * stride + q + c]) * Double(qkv[j * stride + k + c]) }
                            logits[j] = Double(scale) * dot
                        }
                        let top = logits.max()!
                        let weights = logits.map { exp($0 - top) }
                        let total = weights.reduce(0, +)
                        for c in 0..<d {
                            var expected = 0.0
                            for j in 0..<limit { expected += weights[j] / total * Double(qkv[j * stride + v + c]) }
                            worst = max(worst, abs(Double(out[i * outputStride + c]) - expected))
                        }
                        for c in d..<outputStride where i * outputStride + c < out.count {
                            #expect(out[i * outputStride + c].isNaN, "column \(c) past the head was written")
                        }
                    }
                    // Values are within ±2 and the weights sum to 1: outputs are within ±2, and
                    // d- and n-term float sums keep the error near 1e-6.
                    #expect(worst <= 2e-5, "\(kernels.level) n=\(n) d=\(d) causal=\(causal): max |Δ| \(worst)")
                }
            }
        }
    }

    @Test(
        "a linear layer, packed or row-major, equals f(x·Wᵀ + b) (or f(y + x·Wᵀ + b)) in double precision",
        arguments: [(1, 1, 1), (7, 31, 255), (8, 32, 256), (9, 33, 257), (50, 96, 64), (100, 100, 300), (17, 700, 530), (40, 710, 300)])
    func linearLayer(shape: (Int, Int, Int)) throws {
        let (m, n, k) = shape
        var rng = SeededGenerator(seed: UInt64(m * 7919 + n * 31 + k))
        let weight = try Tensor(shape: [n, k], scalars: rng.floats(n * k))
        let xStride = k + 3, yStride = n + 2
        let x = rng.floats(m * xStride), bias = rng.floats(n), y0 = rng.floats(m * yStride)
        let layouts = LinearLayerMatrix.packingAvailable ? [false, true] : [false]
        // Threads split the packed product (OpenBLAS's process-wide count is left alone:
        // other suites run concurrently).
        let threadCounts = [1, 2]
        for packed in layouts {
            let matrix = LinearLayerMatrix(weight, packed: packed)
            #expect(matrix.isPacked == packed)
            for threads in threadCounts {
                for (activation, accumulate, withBias) in [
                    (KernelActivation.identity, false, false), (.identity, true, true), (.quickGELU, false, true),
                    (.gelu, false, true), (.geluTanh, true, false),
                ] {
                    var y = y0
                    x.withUnsafeBufferPointer { xp in
                        bias.withUnsafeBufferPointer { bp in
                            y.withUnsafeMutableBufferPointer { yp in
                                matrix.apply(
                                    xp.baseAddress!, rows: m, xStride: xStride, bias: withBias ? bp.baseAddress! : nil,
                                    activation: activation, accumulate: accumulate, into: yp.baseAddress!,
                                    yStride: yStride, threads: threads)
                            }
                        }
                    }
                    var worst = 0.0
                    try weight.withUnsafeBufferPointer { w in
                        for i in 0..<m {
                            for j in 0..<yStride {
                                if j >= n {
                                    #expect(y[i * yStride + j] == y0[i * yStride + j], "padding column \(j) was written")
                                    continue
                                }
                                var s = (accumulate ? Double(y0[i * yStride + j]) : 0) + (withBias ? Double(bias[j]) : 0)
                                var magnitude = abs(s)
                                for p in 0..<k {
                                    let term = Double(x[i * xStride + p]) * Double(w[j * k + p])
                                    s += term
                                    magnitude += abs(term)
                                }
                                let expected = Self.reference(s, activation)
                                // Float accumulation over k terms, relative to Σ|terms|; the activation
                                // (slope ≤ 1.13) adds its own few-ulp error.
                                let error = abs(Double(y[i * yStride + j]) - expected)
                                worst = max(worst, error / max(magnitude, 1))
                                if error.isNaN { throw CancellationError() }
                            }
                        }
                    }
                    #expect(
                        worst < 4 * Double(k + 4) * Double(Float.ulpOfOne),
                        "packed \(packed) threads \(threads) \(activation) accumulate \(accumulate): relative error \(worst)")
                }
            }
        }
    }
}
