import CSearchKernels
import Foundation
import Testing
import _TestSupport

@testable import Tensor

/// The packed FP32 GEMM and the INT8 GEMM at every kernel level this CPU has
/// (portable C included), through the level APIs, against double-precision
/// references on shapes that are not multiples of any tile.
@Suite("Packed FP32 and INT8 GEMMs at every level")
struct PackedGEMMTests {
    // (12, 70, 600), (24, 40, 300) and (25, 40, 300) straddle the AVX2 kernel's few-row path (the whole
    // depth per panel, below 25 rows) and its KC-blocked one.
    static let shapes = [
        (1, 1, 1), (5, 7, 3), (7, 33, 13), (13, 47, 70), (9, 95, 257), (50, 130, 64), (31, 64, 129), (12, 70, 600),
        (24, 40, 300), (25, 40, 300),
    ]
    static let epilogues: [(KernelActivation, accumulate: Bool, bias: Bool)] = [
        (.identity, false, false), (.identity, true, true), (.gelu, false, true), (.geluTanh, true, false),
        (.quickGELU, true, true),
    ]

    static func cLevel(_ level: KernelLevel) -> mms_kernel_level { mms_kernel_level(rawValue: UInt32(level.rawValue)) }

    @Test("FP32: C = f([C +] A·Bᵀ [+ bias]) within float rounding of a double reference", arguments: shapes)
    func float32(shape: (Int, Int, Int)) throws {
        let (m, n, k) = shape
        let lda = k + 3, ldb = k + 1, ldc = n + 2
        var rng = SeededGenerator(seed: UInt64(m * 7_919 + n * 31 + k))
        let a = rng.floats(m * lda), b = rng.floats(n * ldb), bias = rng.floats(n), c0 = rng.floats(m * ldc)
        var packed = [Float](repeating: .nan, count: mms_sgemm_packed_count(n, k))
        b.withUnsafeBufferPointer { bp in
            packed.withUnsafeMutableBufferPointer { mms_sgemm_pack_b(n, k, bp.baseAddress!, ldb, $0.baseAddress!) }
        }
        #expect(!packed.contains { $0.isNaN }, "packing left floats unwritten")
        for level in Kernels.supported.map(\.level) {
            for (activation, accumulate, withBias) in Self.epilogues {
                var c = c0
                let done = a.withUnsafeBufferPointer { ap in
                    packed.withUnsafeBufferPointer { pp in
                        bias.withUnsafeBufferPointer { bp in
                            c.withUnsafeMutableBufferPointer { cp in
                                mms_sgemm_nt_packed_level(
                                    Self.cLevel(level), m, n, k, ap.baseAddress!, lda, pp.baseAddress!,
                                    withBias ? bp.baseAddress! : nil, activation.rawValue, cp.baseAddress!, ldc,
                                    accumulate ? 1 : 0)
                            }
                        }
                    }
                }
                #expect(done == 1)
                var worst = 0.0
                for i in 0..<m {
                    for j in 0..<ldc {
                        if j >= n {
                            #expect(c[i * ldc + j] == c0[i * ldc + j], "\(level): padding column \(j) was written")
                            continue
                        }
                        var s = (accumulate ? Double(c0[i * ldc + j]) : 0) + (withBias ? Double(bias[j]) : 0)
                        var magnitude = abs(s)
                        for p in 0..<k {
                            let term = Double(a[i * lda + p]) * Double(b[j * ldb + p])
                            s += term
                            magnitude += abs(term)
                        }
                        let expected = TransformerKernelTests.reference(s, activation)
                        let error = abs(Double(c[i * ldc + j]) - expected)
                        #expect(!error.isNaN, "\(level): NaN at (\(i), \(j))")
                        worst = max(worst, error / max(magnitude, 1))
                    }
                }
                #expect(
                    worst < 4 * Double(k + 4) * Double(Float.ulpOfOne),
                    "\(level) \(activation) accumulate \(accumulate) bias \(withBias): relative error \(worst)")
            }
        }
    }

    @Test("FP32: a product from a panel boundary reads the packed matrix from there")
    func float32Offset() {
        let (m, n, k) = (3, 100, 20)
        var rng = SeededGenerator(seed: 77)
        let a = rng.floats(m * k), b = rng.floats(n * k)
        var packed = [Float](repeating: 0, count: mms_sgemm_packed_count(n, k))
        b.withUnsafeBufferPointer { bp in
            packed.withUnsafeMutableBufferPointer { mms_sgemm_pack_b(n, k, bp.baseAddress!, k, $0.baseAddress!) }
        }
        for level in Kernels.supported.map(\.level) {
            var whole = [Float](repeating: 0, count: m * n), split = whole
            a.withUnsafeBufferPointer { ap in
                packed.withUnsafeBufferPointer { pp in
                    _ = mms_sgemm_nt_packed_level(
                        Self.cLevel(level), m, n, k, ap.baseAddress!, k, pp.baseAddress!, nil, 0, &whole, n, 0)
                    split.withUnsafeMutableBufferPointer { sp in
                        for (first, last) in [(0, 32), (32, 96), (96, 100)] {
                            _ = mms_sgemm_nt_packed_level(
                                Self.cLevel(level), m, last - first, k, ap.baseAddress!, k,
                                pp.baseAddress! + first * k, nil, 0, sp.baseAddress! + first, n, 0)
                        }
                    }
                }
            }
            #expect(whole == split, "\(level)")
        }
    }

    /// Codes and the quantisation parameters of `m` rows for `level`.
    static func quantize(_ a: [Float], m: Int, k: Int, lda: Int, level: KernelLevel)
        -> (codes: [UInt8], ldq: Int, scales: [Float], zeros: [Int32])
    {
        let ldq = mms_gemm_i8_depth(k) + 4
        var codes = [UInt8](repeating: 0xAA, count: m * ldq), scales = [Float](repeating: 0, count: m)
        var zeros = [Int32](repeating: -1, count: m)
        mms_gemm_i8_quantize_a(m, k, a, lda, mms_gemm_i8_activation_max(cLevel(level)), &codes, ldq, &scales, &zeros)
        return (codes, ldq, scales, zeros)
    }

    @Test("INT8 activations: per-row codes within half a step, zero exact, padding zero", arguments: [1, 3, 31, 32, 77])
    func quantizeRows(k: Int) {
        let m = 6, lda = k + 2
        var rng = SeededGenerator(seed: UInt64(k) + 11)
        var a = rng.floats(m * lda, in: -3...5)
        for p in 0..<k { a[2 * lda + p] = 0 }  // an all-zero row
        for p in 0..<k { a[3 * lda + p] = abs(a[3 * lda + p]) + 0.5 }  // all positive: zero point 0
        a[4 * lda] = 0  // an exact zero amid other values
        for level in Kernels.supported.map(\.level) {
            let top = Int(mms_gemm_i8_activation_max(Self.cLevel(level)))
            #expect(top == (level == .avx2 ? 127 : 255))
            let q = Self.quantize(a, m: m, k: k, lda: lda, level: level)
            for i in 0..<m {
                let scale = q.scales[i], zero = Int(q.zeros[i])
                #expect(scale > 0 && zero >= 0 && zero <= top, "\(level) row \(i): scale \(scale), zero point \(zero)")
                for p in 0..<k {
                    let code = Int(q.codes[i * q.ldq + p])
                    #expect(code <= top)
                    let value = Double(scale) * Double(code - zero)
                    #expect(
                        abs(value - Double(a[i * lda + p])) <= Double(scale) * 0.5001,
                        "\(level) row \(i) column \(p): \(a[i * lda + p]) came back as \(value)")
                    if a[i * lda + p] == 0 { #expect(code == zero) }
                }
                for p in k..<mms_gemm_i8_depth(k) { #expect(q.codes[i * q.ldq + p] == 0, "padding code") }
            }
            #expect(q.codes[2 * q.ldq..<(2 * q.ldq + k)].allSatisfy { $0 == 0 } && q.zeros[2] == 0)
            #expect(q.zeros[3] == 0)
        }
    }

    @Test("INT8: the integer sums are exact; only the epilogue rounds", arguments: shapes)
    func int8(shape: (Int, Int, Int)) throws {
        let (m, n, k) = shape
        let lda = k + 1, ldc = n + 3
        var rng = SeededGenerator(seed: UInt64(m * 131 + n * 17 + k))
        let a = rng.floats(m * lda, in: -2...3), bias = rng.floats(n), c0 = rng.floats(m * ldc)
        // Full int8 range in the weights, −128 included, to exercise the saturation bound.
        var codes = Tensor<Int8>(shape: [n, k])
        codes.withUnsafeMutableBufferPointer { c in
            for i in c.indices { c[i] = Int8(truncatingIfNeeded: Int(rng.next() % 256) - 128) }
        }
        let bScales = (0..<n).map { Float($0 % 7 + 1) * 0.003 }
        let matrix = Int8LinearMatrix(codes: codes, scales: bScales)
        let w = codes.scalars
        for level in Kernels.supported.map(\.level) {
            let q = Self.quantize(a, m: m, k: k, lda: lda, level: level)
            for (activation, accumulate, withBias) in Self.epilogues {
                var c = c0
                let done = q.codes.withUnsafeBufferPointer { qp in
                    matrix.packed.withUnsafeBufferPointer { pp in
                        matrix.columnSums.withUnsafeBufferPointer { sp in
                            matrix.scales.withUnsafeBufferPointer { wp in
                                bias.withUnsafeBufferPointer { bp in
                                    c.withUnsafeMutableBufferPointer { cp in
                                        mms_gemm_u8s8_packed_level(
                                            Self.cLevel(level), m, n, k, qp.baseAddress!, q.ldq, q.scales, q.zeros,
                                            pp.baseAddress!, sp.baseAddress!, wp.baseAddress!,
                                            withBias ? bp.baseAddress! : nil, activation.rawValue, cp.baseAddress!,
                                            ldc, accumulate ? 1 : 0)
                                    }
                                }
                            }
                        }
                    }
                }
                #expect(done == 1)
                var worst = 0.0
                for i in 0..<m {
                    for j in 0..<ldc {
                        if j >= n {
                            #expect(c[i * ldc + j] == c0[i * ldc + j], "\(level): padding column \(j) was written")
                            continue
                        }
                        var sum = 0
                        for p in 0..<k { sum += (Int(q.codes[i * q.ldq + p]) - Int(q.zeros[i])) * Int(w[j * k + p]) }
                        let product = Double(q.scales[i]) * Double(bScales[j]) * Double(sum)
                        let rest = (accumulate ? Double(c0[i * ldc + j]) : 0) + (withBias ? Double(bias[j]) : 0)
                        let expected = TransformerKernelTests.reference(product + rest, activation)
                        let magnitude = abs(product) + abs(rest) + 1e-3
                        worst = max(worst, abs(Double(c[i * ldc + j]) - expected) / magnitude)
                    }
                }
                // An exact integer, two scale products, an add or two, the activation: a few ulps.
                #expect(worst < 16 * Double(Float.ulpOfOne), "\(level) \(activation) accumulate \(accumulate): \(worst)")
            }
        }
    }

    @Test("INT8 linear layer: close to the FP32 product, the same split over threads at every level")
    func int8Linear() throws {
        let (m, n, k) = (37, 200, 300)
        var rng = SeededGenerator(seed: 2024)
        let weight = try Tensor(shape: [n, k], scalars: rng.floats(n * k, in: -0.2...0.2))
        let q = try weight.quantizedInt8(along: .rows)
        let matrix = Int8LinearMatrix(codes: q.codes, scales: q.scales)
        let x = rng.floats(m * k, in: -1...1.5), bias = rng.floats(n)
        var exact = [Float](repeating: 0, count: m * n)
        LinearLayerMatrix(weight, packed: false).apply(x, rows: m, bias: bias, activation: .gelu, into: &exact)
        for level in Kernels.supported.map(\.level) {
            var one = [Float](repeating: 0, count: m * n), two = one
            matrix.apply(x, rows: m, bias: bias, activation: .gelu, into: &one, threads: 1, level: level)
            matrix.apply(x, rows: m, bias: bias, activation: .gelu, into: &two, threads: 2, level: level)
            #expect(one == two, "\(level): threads changed the result")
            for i in 0..<m {
                let row = i * n..<(i + 1) * n
                var dot = 0.0, n1 = 0.0, n2 = 0.0
                for (u, v) in zip(one[row], exact[row]) {
                    dot += Double(u) * Double(v)
                    n1 += Double(u) * Double(u)
                    n2 += Double(v) * Double(v)
                }
                let similarity = dot / (n1 * n2).squareRoot()
                // 8-bit weights and 8-bit (7 on AVX2) activations on random data.
                #expect(similarity > 0.999, "\(level) row \(i): cosine \(similarity) to FP32")
            }
        }
    }
}
