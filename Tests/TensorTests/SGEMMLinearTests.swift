import Testing
import _TestSupport

@testable import Tensor

@Suite("AVX-512 linear-layer GEMM")
struct SGEMMLinearTests {
    @Test(
        "C (+)= A·Bᵀ equals a double-precision reference for awkward shapes and strides",
        arguments: [(1, 1, 1), (7, 31, 255), (8, 32, 256), (9, 33, 257), (100, 100, 300), (129, 65, 513), (16, 2050, 70)])
    func matchesReference(shape: (Int, Int, Int)) throws {
        guard Kernels.bestSupportedLevel == .avx512, Kernels.active.level == .avx512 else { return }
        let (m, n, k) = shape
        let lda = k + 3, ldb = k + 5, ldc = n + 2
        var rng = SeededGenerator(seed: UInt64(m * 1_000_003 + n * 1_009 + k))
        let a = rng.floats(m * lda), b = rng.floats(n * ldb)
        for accumulate in [false, true] {
            let c0 = rng.floats(m * ldc)
            var c = c0
            let done = a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        BLAS.sgemmLinear(
                            m: m, n: n, k: k, a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                            accumulate: accumulate, c: pc.baseAddress!, ldc: ldc)
                    }
                }
            }
            #expect(done)
            var worst = 0.0
            for i in 0..<m {
                for j in 0..<ldc {
                    if j >= n {
                        #expect(c[i * ldc + j] == c0[i * ldc + j], "padding column \(j) was written")
                        continue
                    }
                    var s = accumulate ? Double(c0[i * ldc + j]) : 0
                    var magnitude = abs(s)
                    for p in 0..<k {
                        s += Double(a[i * lda + p]) * Double(b[j * ldb + p])
                        magnitude += abs(Double(a[i * lda + p]) * Double(b[j * ldb + p]))
                    }
                    worst = max(worst, abs(Double(c[i * ldc + j]) - s) / max(magnitude, 1))
                }
            }
            // Float accumulation over k terms: a few ulps × k relative to Σ|terms|.
            #expect(worst < 4 * Double(k) * Double(Float.ulpOfOne), "relative error \(worst)")
        }
    }
}
