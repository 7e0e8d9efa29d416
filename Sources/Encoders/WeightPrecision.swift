import SearchCore
import Tensor

/// How an encoder keeps the weights of its transformer blocks in memory.
///
/// The projections (attention q/k/v and output, the two MLP layers) hold
/// nearly all of a tower's arithmetic and, with the token embeddings, nearly
/// all of its memory. The projections are stored as the mode says; a text
/// tower's token-embedding table is FP16 in both reduced modes (rows are
/// looked up, not multiplied, and widen exactly). Layer norms, biases,
/// positional embeddings and the final projection stay in single precision.
/// FP16 products accumulate in single precision; INT8 ones, on AVX2 and
/// AVX-512 CPUs, quantise each row of activations to 8 bits as they go
/// (7 on AVX2, see ``Tensor/Int8LinearMatrix``) and accumulate exactly in
/// int32.
///
/// | mode | weight bytes | worst cosine to ``float32``, all-MiniLM-L6-v2 / tiny CLIP image tower (tests assert ≥) |
/// | --- | --- | --- |
/// | ``float32`` | 4 | 1 |
/// | ``float16`` | 2 | 0.999999 / 0.999999 (≥ 0.9999) |
/// | ``int8`` | 1 (+ a scale and a column sum per output channel) | AVX-512 0.997 / 0.99998, AVX2 0.995 / 0.99998 (≥ 0.99) |
///
/// ViT-B/32's blocks hold 340 MB in FP32, 170 MB in FP16, 85 MB in INT8.
///
/// Speed: FP32 weights are packed once, at load, for the package's AVX2 or
/// AVX-512 GEMM (see ``Tensor/LinearLayerMatrix``); INT8 weights are packed
/// once for its INT8 GEMM (AVX-512 VNNI `vpdpbusd`, AVX2 `vpmaddubsw`), which
/// runs several times the FP32 kernel's multiply-adds per instruction, so INT8
/// is the fastest mode there (`mms-bench encoders`; README's figures). FP16
/// tiles are widened to single precision and multiplied by the FP32 kernel
/// (OpenBLAS on two threads or without AVX-512): FP16 saves memory, not time.
/// On CPUs without AVX2 (and on arm64) INT8 tiles are dequantised the same way.
///
/// ```swift
/// let small = try BERTTextEncoder(directory: "all-MiniLM-L6-v2", precision: .int8)
/// ```
public enum WeightPrecision: String, Sendable, Hashable, CaseIterable {
    /// The weights as published (F16 and BF16 files are widened): bit-for-bit the reference's arithmetic.
    case float32
    /// IEEE half precision (round to nearest even): half the memory. Tiles are
    /// widened to single precision before each GEMM; a few tokens read the
    /// halves directly through the f32 × f16 dot kernels.
    case float16
    /// Symmetric INT8 with one scale per output channel (`max|row| / 127`, as
    /// ``Tensor/Int8Matrix`` with ``Tensor/QuantizationAxis/rows``): a quarter
    /// of the memory. On AVX2 and AVX-512 CPUs the products run on the INT8 GEMM,
    /// the activations quantised per row as they enter it; elsewhere tiles are
    /// dequantised before each FP32 GEMM.
    case int8
}

/// One Linear layer's `[out, in]` weight matrix, stored as a ``WeightPrecision`` says
/// (FP32 packed for the AVX2/AVX-512 GEMM where it runs, see ``Tensor/LinearLayerMatrix``).
enum LinearWeight: Sendable {
    case float32(LinearLayerMatrix)
    case float16(Tensor<Half>)
    /// Codes `[out, in]` and one scale per output row, dequantised for each GEMM
    /// (where the INT8 GEMM has no vector form).
    case int8(Tensor<Int8>, scales: [Float])
    /// The same codes packed for the INT8 GEMM (AVX2, AVX-512 VNNI).
    case int8Packed(Int8LinearMatrix)

    init(_ weight: Tensor<Float>, precision: WeightPrecision) throws(SearchError) {
        switch precision {
        case .float32: self = .float32(LinearLayerMatrix(weight))
        case .float16: self = .float16(weight.toHalf())
        case .int8:
            let q = try weight.quantizedInt8(along: .rows)
            self = Int8LinearMatrix.isFast
                ? .int8Packed(Int8LinearMatrix(codes: q.codes, scales: q.scales)) : .int8(q.codes, scales: q.scales)
        }
    }

    var shape: [Int] {
        switch self {
        case .float32(let m): [m.outputs, m.inputs]
        case .float16(let t): t.shape
        case .int8(let t, _): t.shape
        case .int8Packed(let m): [m.outputs, m.inputs]
        }
    }

    /// Bytes of weight storage (codes and scales; packed, also column sums and padding).
    var byteCount: Int {
        switch self {
        case .float32(let m): m.byteCount
        case .float16(let t): 2 * t.count
        case .int8(let t, let scales): t.count + 4 * scales.count
        case .int8Packed(let m): m.byteCount
        }
    }

    /// Writes rows `rows` of the matrix, widened to single precision, into `tile` (row after row).
    /// FP32 weights are multiplied where they are, never widened.
    func widen(rows: Range<Int>, into tile: UnsafeMutablePointer<Float>, kernels: Kernels) {
        let columns = shape[1]
        switch self {
        case .float32, .int8Packed:
            preconditionFailure("FP32 and packed INT8 weights are multiplied in place, not widened")
        case .float16(let t):
            t.withUnsafeBufferPointer {
                kernels.convert($0.baseAddress! + rows.lowerBound * columns, to: tile, count: rows.count * columns)
            }
        case .int8(let t, let scales):
            t.withUnsafeBufferPointer { codes in
                for (i, r) in rows.enumerated() {
                    kernels.dequantize(
                        codes.baseAddress! + r * columns, count: columns, scale: scales[r], into: tile + i * columns)
                }
            }
        }
    }
}

/// A token-embedding table (`[vocabulary, width]`), kept in FP32 for
/// ``WeightPrecision/float32`` and in FP16 otherwise: the table is the
/// largest single tensor of a text tower (CLIP's 49,408 × 512 is 101 MB in
/// FP32), and a looked-up row is widened exactly.
enum EmbeddingTable: Sendable {
    case float32(Tensor<Float>)
    case float16(Tensor<Half>)

    init(_ table: Tensor<Float>, precision: WeightPrecision) {
        self = precision == .float32 ? .float32(table) : .float16(table.toHalf())
    }

    /// Bytes of storage.
    var byteCount: Int {
        switch self {
        case .float32(let t): 4 * t.count
        case .float16(let t): 2 * t.count
        }
    }

    /// Calls `body` with a function that writes row `index`, in single precision, to a pointer
    /// (the table's storage opened once for the whole lookup).
    func withRows<R>(_ body: ((Int, UnsafeMutablePointer<Float>) -> Void) -> R) -> R {
        switch self {
        case .float32(let t):
            let width = t.shape[1]
            return t.withUnsafeBufferPointer { rows in
                body { index, out in out.update(from: rows.baseAddress! + index * width, count: width) }
            }
        case .float16(let t):
            let width = t.shape[1]
            let kernels = Kernels.active
            return t.withUnsafeBufferPointer { rows in
                body { index, out in kernels.convert(rows.baseAddress! + index * width, to: out, count: width) }
            }
        }
    }
}
