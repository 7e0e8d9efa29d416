import CSearchKernels
import Dispatch

/// A linear layer's INT8 weight (`[outputs, inputs]` codes, one scale per
/// output channel, as ``Int8Matrix`` with ``QuantizationAxis/rows``), packed
/// once for the INT8 GEMM, which multiplies it by activations quantised to
/// 8 bits per row at run time: `y = f(x·Wᵀ + b)` (or `y = f(y + x·Wᵀ + b)`).
///
/// Each row of `x` is quantised on its own, asymmetrically (its minimum and
/// maximum, with 0, map to codes 0…255 — 0…127 on AVX2, whose `vpmaddubsw`
/// would saturate on larger ones). The integer products are exact (column
/// sums of the weight, computed at packing, take the zero point out); the
/// error is the two roundings to 8 bits. AVX-512 VNNI runs `vpdpbusd`, AVX2
/// `vpmaddubsw` and `vpmaddwd`; portable C computes the same sums (slowly:
/// see ``isFast``).
///
/// ```swift
/// let q = try weight.quantizedInt8(along: .rows)
/// let fc1 = Int8LinearMatrix(codes: q.codes, scales: q.scales)
/// fc1.apply(x, rows: tokens, bias: b, activation: .gelu, into: hidden)
/// ```
public struct Int8LinearMatrix: Sendable {
    /// Rows of the weight: the layer's output width.
    public let outputs: Int
    /// Columns of the weight: the layer's input width.
    public let inputs: Int
    @usableFromInline let packed: Tensor<Int8>
    /// Column sums of the codes and the scales, padded to whole panels.
    @usableFromInline let columnSums: [Int32]
    @usableFromInline let scales: [Float]

    /// Packs `codes` (`[outputs, inputs]`) with one scale per output (row).
    public init(codes: Tensor<Int8>, scales: [Float]) {
        precondition(codes.shape.count == 2, "a linear layer's weight is a matrix, not \(codes.shape)")
        precondition(scales.count == codes.shape[0], "one scale per output row")
        let (n, k) = (codes.shape[0], codes.shape[1])
        outputs = n
        inputs = k
        let columns = mms_gemm_i8_padded_columns(n)
        var sums = [Int32](repeating: 0, count: columns)
        packed = Tensor(shape: [mms_gemm_i8_packed_bytes(n, k)]) { (out: UnsafeMutableBufferPointer<Int8>) in
            codes.withUnsafeBufferPointer { c in
                sums.withUnsafeMutableBufferPointer { s in
                    mms_gemm_i8_pack_b(n, k, c.baseAddress!, k, out.baseAddress!, s.baseAddress!)
                }
            }
        }
        columnSums = sums
        self.scales = scales + [Float](repeating: 0, count: columns - n)
    }

    /// Whether the INT8 GEMM has a vector form on this machine (AVX2 or AVX-512,
    /// as `MMS_KERNELS` allows) — where it is faster than the FP32 one. Elsewhere
    /// the portable form is correct but slow; callers dequantise instead.
    public static var isFast: Bool { Kernels.active.level == .avx2 || Kernels.active.level == .avx512 }

    /// Bytes of weight storage: the packed codes (outputs padded to a multiple
    /// of 32, inputs to a multiple of 4), column sums and scales.
    public var byteCount: Int { packed.count + 4 * columnSums.count + 4 * scales.count }

    /// Bytes of scratch ``apply(_:rows:xStride:bias:activation:accumulate:into:yStride:threads:level:scratch:)``
    /// needs for `rows` rows: their codes, scales and zero points.
    public func scratchByteCount(rows: Int) -> Int {
        rows * (mms_gemm_i8_depth(inputs) + 8)
    }

    /// `y = f(x·Wᵀ + b)`, or `y = f(y + x·Wᵀ + b)` when `accumulate`, for `rows` rows
    /// of `x` (`inputs` wide, row stride `xStride`) into `y` (`outputs` wide, row
    /// stride `yStride`); `bias` is `outputs` floats or nil. Unchecked: the inner call.
    ///
    /// The rows are quantised once, then the product is split by whole panels of
    /// output columns over `threads` threads (``BLAS/threadCount`` when nil) when
    /// large enough; each output is computed the same way however it is split.
    ///
    /// - Parameters:
    ///   - level: the kernel level (tests); ``Kernels/active`` when nil. A level this
    ///     CPU lacks is a precondition failure.
    ///   - scratch: at least ``scratchByteCount(rows:)`` bytes, or nil to allocate them.
    public func apply(
        _ x: UnsafePointer<Float>, rows: Int, xStride: Int? = nil, bias: UnsafePointer<Float>?,
        activation: KernelActivation = .identity, accumulate: Bool = false,
        into y: UnsafeMutablePointer<Float>, yStride: Int? = nil, threads: Int? = nil, level: KernelLevel? = nil,
        scratch: UnsafeMutableRawPointer? = nil
    ) {
        guard rows > 0, outputs > 0 else { return }
        guard let scratch else {
            let bytes = scratchByteCount(rows: rows)
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            defer { buffer.deallocate() }
            apply(
                x, rows: rows, xStride: xStride, bias: bias, activation: activation, accumulate: accumulate, into: y,
                yStride: yStride, threads: threads, level: level, scratch: buffer)
            return
        }
        let level = level ?? Kernels.active.level
        let cLevel = mms_kernel_level(rawValue: UInt32(level.rawValue))
        let (n, k) = (outputs, inputs)
        let depth = mms_gemm_i8_depth(k)
        let lda = xStride ?? k, ldc = yStride ?? n
        // Codes first (a multiple of 4 bytes per row), then scales and zero points.
        let codes = scratch.bindMemory(to: UInt8.self, capacity: rows * depth)
        let aScales = (scratch + rows * depth).bindMemory(to: Float.self, capacity: rows)
        let aZeros = (scratch + rows * depth + 4 * rows).bindMemory(to: Int32.self, capacity: rows)
        mms_gemm_i8_quantize_a(rows, k, x, lda, mms_gemm_i8_activation_max(cLevel), codes, depth, aScales, aZeros)
        packed.withUnsafeBufferPointer { p in
            columnSums.withUnsafeBufferPointer { sums in
                scales.withUnsafeBufferPointer { bScales in
                    let p = p.baseAddress!, sums = sums.baseAddress!, bScales = bScales.baseAddress!
                    let panel = Int(MMS_GEMM_I8_PANEL)
                    let panels = (n + panel - 1) / panel
                    // Four times the FP32 GEMM's work per split: the INT8 products are that much faster.
                    let threads = Swift.min(threads ?? BLAS.threadCount, panels, Swift.max(1, rows * n * k / (1 << 24)))
                    // Addresses as integers, so that the threads' closure is Sendable: each thread
                    // reads the shared inputs and writes its own columns of y.
                    let address = (
                        codes: Int(bitPattern: codes), aScales: Int(bitPattern: aScales), aZeros: Int(bitPattern: aZeros),
                        p: Int(bitPattern: p), sums: Int(bitPattern: sums), bScales: Int(bitPattern: bScales),
                        bias: bias.map { Int(bitPattern: $0) }, y: Int(bitPattern: y))
                    @Sendable func run(_ first: Int, _ last: Int) {
                        let done = mms_gemm_u8s8_packed_level(
                            cLevel, rows, last - first, k, UnsafePointer(bitPattern: address.codes), depth,
                            UnsafePointer(bitPattern: address.aScales), UnsafePointer(bitPattern: address.aZeros),
                            UnsafePointer<Int8>(bitPattern: address.p)! + first * depth,
                            UnsafePointer<Int32>(bitPattern: address.sums)! + first,
                            UnsafePointer<Float>(bitPattern: address.bScales)! + first,
                            address.bias.map { UnsafePointer<Float>(bitPattern: $0)! + first }, activation.rawValue,
                            UnsafeMutablePointer<Float>(bitPattern: address.y)! + first, ldc, accumulate ? 1 : 0)
                        precondition(done != 0, "the INT8 GEMM ran at level \(level), which this CPU lacks")
                    }
                    if threads <= 1 {
                        run(0, n)
                        return
                    }
                    // Whole panels of columns per thread.
                    DispatchQueue.concurrentPerform(iterations: threads) { t in
                        let first = panels * t / threads * panel
                        let last = Swift.min(n, panels * (t + 1) / threads * panel)
                        if first < last { run(first, last) }
                    }
                }
            }
        }
    }
}
