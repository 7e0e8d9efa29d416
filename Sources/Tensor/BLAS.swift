import COpenBLAS

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
}
