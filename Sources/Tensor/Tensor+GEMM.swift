import SearchCore

extension Tensor where Scalar == Float {
    /// The shape of a rank-2 operand after an optional transpose, or a thrown shape error.
    private static func matrixShape(_ t: Tensor, transposed: Bool, name: String) throws(SearchError) -> (rows: Int, cols: Int) {
        guard t.rank == 2 else {
            throw SearchError(.dimensionMismatch, "\(name) must be a matrix (rank 2), got shape \(t.shape)")
        }
        return transposed ? (t.shape[1], t.shape[0]) : (t.shape[0], t.shape[1])
    }

    /// `C ← alpha·op(A)·op(B) + beta·C` through OpenBLAS `cblas_sgemm`.
    ///
    /// - Parameters:
    ///   - transposeA, transposeB: use Aᵀ or Bᵀ (no copy is made).
    ///   - c: an `m × n` matrix; with `beta = 0` its previous contents are ignored.
    /// - Throws: ``SearchError/Code/dimensionMismatch`` naming both shapes when
    ///   the operands do not fit.
    /// - Complexity: 2·m·n·k floating-point operations.
    public static func gemm(
        _ a: Tensor, transposeA: Bool = false,
        _ b: Tensor, transposeB: Bool = false,
        alpha: Float = 1, beta: Float = 0,
        into c: inout Tensor
    ) throws(SearchError) {
        let (m, k) = try matrixShape(a, transposed: transposeA, name: "A")
        let (kb, n) = try matrixShape(b, transposed: transposeB, name: "B")
        guard k == kb else {
            throw SearchError(
                .dimensionMismatch,
                "cannot multiply \(transposeA ? "Aᵀ" : "A") of shape \(m)×\(k) by \(transposeB ? "Bᵀ" : "B") of shape \(kb)×\(n)")
        }
        guard c.shape == [m, n] else {
            throw SearchError(.dimensionMismatch, "the product is \(m)×\(n) but C has shape \(c.shape)")
        }
        if m == 0 || n == 0 { return }
        let lda = a.shape[1], ldb = b.shape[1]
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    if k == 0 {
                        // BLAS leaves C untouched when k = 0 only if beta = 1; scale explicitly.
                        for i in pc.indices { pc[i] = beta == 0 ? 0 : pc[i] * beta }
                        return
                    }
                    BLAS.sgemm(
                        m: m, n: n, k: k, alpha: alpha,
                        a: pa.baseAddress!, lda: lda, transposeA: transposeA,
                        b: pb.baseAddress!, ldb: ldb, transposeB: transposeB,
                        beta: beta, c: pc.baseAddress!, ldc: n)
                }
            }
        }
    }

    /// op(A)·op(B) as a new matrix.
    public static func matmul(
        _ a: Tensor, transposeA: Bool = false, _ b: Tensor, transposeB: Bool = false
    ) throws(SearchError) -> Tensor {
        let (m, _) = try matrixShape(a, transposed: transposeA, name: "A")
        let (_, n) = try matrixShape(b, transposed: transposeB, name: "B")
        var c = Tensor(shape: [m, n])
        try gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: &c)
        return c
    }

    /// Batched `C[i] ← alpha·op(A[i])·op(B[i]) + beta·C[i]` over rank-3 tensors
    /// `[batch, rows, cols]`; `b` may instead be one rank-2 matrix shared by
    /// every batch entry (a weight).
    public static func batchedGemm(
        _ a: Tensor, transposeA: Bool = false,
        _ b: Tensor, transposeB: Bool = false,
        alpha: Float = 1, beta: Float = 0,
        into c: inout Tensor
    ) throws(SearchError) {
        guard a.rank == 3, c.rank == 3, b.rank == 3 || b.rank == 2 else {
            throw SearchError(
                .dimensionMismatch,
                "batched GEMM takes A and C of rank 3 and B of rank 2 or 3; got \(a.shape), \(b.shape), \(c.shape)")
        }
        let batch = a.shape[0]
        guard c.shape[0] == batch, b.rank == 2 || b.shape[0] == batch else {
            throw SearchError(
                .dimensionMismatch, "batch sizes differ: A \(a.shape[0]), B \(b.rank == 3 ? b.shape[0] : 1), C \(c.shape[0])")
        }
        let (m, k) = transposeA ? (a.shape[2], a.shape[1]) : (a.shape[1], a.shape[2])
        let bRows = b.shape[b.rank - 2], bCols = b.shape[b.rank - 1]
        let (kb, n) = transposeB ? (bCols, bRows) : (bRows, bCols)
        guard k == kb, c.shape[1] == m, c.shape[2] == n else {
            throw SearchError(
                .dimensionMismatch,
                "cannot multiply batches of \(m)×\(k) by \(kb)×\(n) into C of shape \(c.shape)")
        }
        if batch == 0 || m == 0 || n == 0 { return }
        let aStride = a.shape[1] * a.shape[2]
        let bStride = b.rank == 3 ? bRows * bCols : 0
        let cStride = m * n
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    for i in 0..<batch {
                        let ci = pc.baseAddress! + i * cStride
                        if k == 0 {
                            for j in 0..<cStride { ci[j] = beta == 0 ? 0 : ci[j] * beta }
                            continue
                        }
                        BLAS.sgemm(
                            m: m, n: n, k: k, alpha: alpha,
                            a: pa.baseAddress! + i * aStride, lda: a.shape[2], transposeA: transposeA,
                            b: pb.baseAddress! + i * bStride, ldb: bCols, transposeB: transposeB,
                            beta: beta, c: ci, ldc: n)
                    }
                }
            }
        }
    }
}
