import COpenBLAS
import CSearchKernels
import Dispatch

/// A linear layer's weight, `[outputs, inputs]` as PyTorch stores it, kept in
/// the layout the fastest product here wants: packed into the column panels
/// of this package's GEMM where its AVX2 or AVX-512 kernel runs (packed once,
/// at load; one layout for both), row-major for OpenBLAS elsewhere. Either way it computes
/// `y = f(x·Wᵀ + b)` (or `y = f(y + x·Wᵀ + b)`), the bias and activation
/// applied as each tile of `y` is written when packed.
///
/// ```swift
/// let fc1 = LinearLayerMatrix(weight)              // [3072, 768]
/// fc1.apply(x, rows: tokens, bias: b, activation: .quickGELU, into: hidden)
/// ```
public struct LinearLayerMatrix: Sendable {
    /// Rows of the weight: the layer's output width.
    public let outputs: Int
    /// Columns of the weight: the layer's input width.
    public let inputs: Int
    /// Whether the weight is packed for the package's GEMM (else row-major for OpenBLAS).
    public let isPacked: Bool
    @usableFromInline let storage: Tensor<Float>

    /// Prepares `weight` (`[outputs, inputs]`), packing it when the AVX2 or AVX-512
    /// kernel runs on this CPU (and `MMS_KERNELS` allows it), or when `packed` says so.
    ///
    /// - Parameter packed: force a layout (tests); packing where the kernel
    ///   cannot run is a precondition failure.
    public init(_ weight: Tensor<Float>, packed: Bool? = nil) {
        precondition(weight.shape.count == 2, "a linear layer's weight is a matrix, not \(weight.shape)")
        let pack = packed ?? Self.packingAvailable
        precondition(!pack || Self.packingAvailable, "the packed GEMM is not available on this CPU")
        outputs = weight.shape[0]
        inputs = weight.shape[1]
        isPacked = pack
        if pack {
            let (n, k) = (outputs, inputs)
            storage = Tensor(shape: [mms_sgemm_packed_count(n, k)]) { (packed: UnsafeMutableBufferPointer<Float>) in
                weight.withUnsafeBufferPointer { w in
                    mms_sgemm_pack_b(n, k, w.baseAddress!, k, packed.baseAddress!)
                }
            }
        } else {
            storage = weight
        }
    }

    /// Whether weights are packed for the package's GEMM on this machine (AVX2 or AVX-512).
    public static var packingAvailable: Bool { mms_sgemm_packed_available() != 0 }

    /// Bytes of weight storage (packing pads the outputs to a multiple of 32).
    public var byteCount: Int { 4 * storage.count }

    /// Calls `body` with the weight row-major (`outputs × inputs` floats), or returns nil when it is packed.
    public func withRowMajorWeights<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R? {
        guard !isPacked else { return nil }
        return try storage.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    /// `y = f(x·Wᵀ + b)`, or `y = f(y + x·Wᵀ + b)` when `accumulate`, for `rows` rows
    /// of `x` (`inputs` wide, row stride `xStride`) into `y` (`outputs` wide, row
    /// stride `yStride`); `bias` is `outputs` floats or nil. Unchecked: the inner call.
    ///
    /// Packed, the product runs on the AVX2 or AVX-512 kernel, split by whole panels of
    /// output columns over `threads` threads (``BLAS/threadCount`` when nil) when
    /// large enough — each output is summed in the same order however it is
    /// split; else the bias is written or added first, OpenBLAS adds the product
    /// (on its own ``BLAS/threadCount`` threads), and `kernels` applies the
    /// activation. The two layouts differ only in float rounding.
    public func apply(
        _ x: UnsafePointer<Float>, rows: Int, xStride: Int? = nil, bias: UnsafePointer<Float>?,
        activation: KernelActivation = .identity, accumulate: Bool = false,
        into y: UnsafeMutablePointer<Float>, yStride: Int? = nil, threads: Int? = nil, kernels: Kernels = .active
    ) {
        let (n, k) = (outputs, inputs)
        let lda = xStride ?? k, ldc = yStride ?? n
        guard rows > 0, n > 0 else { return }
        storage.withUnsafeBufferPointer { s in
            let w = s.baseAddress!
            if isPacked {
                let panel = Int(MMS_SGEMM_PANEL)
                let panels = (n + panel - 1) / panel
                let threads = Swift.min(threads ?? BLAS.threadCount, panels, Swift.max(1, rows * n * k / (1 << 22)))
                if threads <= 1 {
                    let done = mms_sgemm_nt_packed(
                        rows, n, k, x, lda, w, bias, activation.rawValue, y, ldc, accumulate ? 1 : 0)
                    precondition(done != 0, "the packed GEMM ran where it is unavailable")
                    return
                }
                // Whole panels of columns per thread.
                let pointers = (x: Int(bitPattern: x), w: Int(bitPattern: w), y: Int(bitPattern: y),
                                bias: bias.map { Int(bitPattern: $0) })
                DispatchQueue.concurrentPerform(iterations: threads) { t in
                    let first = panels * t / threads * panel
                    let last = Swift.min(n, panels * (t + 1) / threads * panel)
                    guard first < last else { return }
                    let done = mms_sgemm_nt_packed(
                        rows, last - first, k, UnsafePointer(bitPattern: pointers.x), lda,
                        UnsafePointer<Float>(bitPattern: pointers.w)! + first * k,
                        pointers.bias.map { UnsafePointer<Float>(bitPattern: $0)! + first },
                        activation.rawValue, UnsafeMutablePointer<Float>(bitPattern: pointers.y)! + first, ldc,
                        accumulate ? 1 : 0)
                    precondition(done != 0, "the packed GEMM ran where it is unavailable")
                }
                return
            }
            if let bias {
                for r in 0..<rows {
                    let row = y + r * ldc
                    if accumulate {
                        for j in 0..<n { row[j] += bias[j] }
                    } else {
                        row.update(from: bias, count: n)
                    }
                }
            }
            let beta: Float = accumulate || bias != nil ? 1 : 0
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, blasint(rows), blasint(n), blasint(k),
                1, x, blasint(lda), w, blasint(k), beta, y, blasint(ldc))
            if activation != .identity {
                for r in 0..<rows { kernels.activate(y + r * ldc, count: n, activation) }
            }
        }
    }
}
