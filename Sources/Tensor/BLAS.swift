import COpenBLAS
import CSearchKernels

/// The BLAS that Tensor's matrix products run on: OpenBLAS, found through pkg-config.
///
/// ```swift
/// BLAS.threadCount = 1             // one thread per search worker
/// print(BLAS.coreName)             // e.g. "Haswell", "SkylakeX"
/// ```
public enum BLAS {
    /// The number of threads OpenBLAS uses for one call. Setting it affects
    /// the whole process; values below 1 become 1.
    public static var threadCount: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    /// The CPU core OpenBLAS's kernels were chosen for (respects `OPENBLAS_CORETYPE`).
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// `C ← alpha·op(A)·op(B) + beta·C` on raw row-major buffers, unchecked:
    /// the inner call of ``Tensor/gemm(_:transposeA:_:transposeB:alpha:beta:into:)``.
    ///
    /// One shape takes another road: `C (+)= A·Bᵀ` (a linear layer: `B` is
    /// the `[out, in]` weight, `alpha` 1, `beta` 0 or 1) on an AVX-512 CPU
    /// with ``threadCount`` 1 runs on this package's own AVX-512 kernel
    /// (``BLAS/sgemmLinear(m:n:k:a:lda:b:ldb:accumulate:c:ldc:)``), which
    /// outruns OpenBLAS when OpenBLAS is limited to its AVX2 kernels.
    ///
    /// `op(A)` is `m × k`, `op(B)` is `k × n`, `C` is `m × n`; `lda`, `ldb`,
    /// `ldc` are the row strides of A, B and C as stored.
    @inlinable
    public static func sgemm(
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if !transposeA, transposeB, alpha == 1, beta == 0 || beta == 1, m >= 8, n >= 64, k >= 64,
            m * n * k >= 1 << 18, openblas_get_num_threads() == 1,
            sgemmLinear(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, accumulate: beta == 1, c: c, ldc: ldc)
        {
            return
        }
        cblas_sgemm(
            CblasRowMajor,
            transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k),
            alpha, a, blasint(lda), b, blasint(ldb),
            beta, c, blasint(ldc))
    }

    /// Σ x[i]·y[i] through OpenBLAS `cblas_sdot`, unchecked: the anchor our own
    /// ``Kernels`` dot is measured against.
    @inlinable
    public static func sdot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
        cblas_sdot(blasint(count), x, 1, y, 1)
    }

    /// `C ← A·Bᵀ`, or `C ← C + A·Bᵀ` when `accumulate`, with `B` stored
    /// `[n, k]` row-major, on the package's AVX-512 kernel (single-threaded,
    /// packed 8 × 32 register tiles). Returns false, writing nothing, when the
    /// CPU lacks AVX-512 (or `MMS_KERNELS` rules it out).
    @inlinable
    public static func sgemmLinear(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int
    ) -> Bool {
        mms_sgemm_nt_avx512(m, n, k, a, lda, b, ldb, c, ldc, accumulate ? 1 : 0) != 0
    }
}
