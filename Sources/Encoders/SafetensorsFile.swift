import SearchCore
import StoragePrimitives
import Tensor

/// A safetensors weight file, memory-mapped, its header validated.
///
/// Tensors are read in place: ``withUnsafeBytes(of:_:)`` hands out the mapped
/// bytes of one tensor without copying, and ``floats(_:)`` converts F32, F16
/// or BF16 into a new `Tensor<Float>` (the form the encoders keep their
/// weights in). The format and every check made before an offset is trusted
/// are described on ``SafetensorsHeader``.
///
/// ```swift
/// let file = try SafetensorsFile(path: "model.safetensors")
/// let wq = try file.floats("encoder.layer.0.attention.self.query.weight")
/// ```
///
/// The owner is `~Copyable`: the mapping is released when it goes away.
/// Element data is read as little-endian, the byte order of every platform
/// this package supports.
public struct SafetensorsFile: ~Copyable, Sendable {
    private let file: MappedFile
    /// The validated table of tensors.
    public let header: SafetensorsHeader

    /// Maps and validates the file at `path`.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/notFound`` or
    ///   ``SearchCore/SearchError/Code/io`` when the file cannot be mapped;
    ///   ``SearchCore/SearchError/Code/corruptData`` or
    ///   ``SearchCore/SearchError/Code/resourceLimit`` for a malformed,
    ///   truncated or oversized header.
    public init(path: String) throws(SearchError) {
        let file = try MappedFile(path: path)
        do throws(SearchError) {
            header = try file.withUnsafeBytes { bytes throws(SearchError) in try SafetensorsHeader(parsing: bytes) }
        } catch {
            throw SearchError(error.code, "\(path): \(error.message)", underlying: error.underlying)
        }
        self.file = file
    }

    /// The path the file was opened from.
    public var path: String { file.path }

    /// The entry for `name`, or a ``SearchCore/SearchError/Code/notFound`` error.
    public func info(_ name: String) throws(SearchError) -> SafetensorsTensorInfo {
        guard let info = header[name] else {
            throw SearchError(.notFound, "\(path) has no tensor named \"\(name)\"")
        }
        return info
    }

    /// Calls `body` with one tensor's raw, mapped bytes (no copy); the
    /// pointer is valid only inside `body`.
    public func withUnsafeBytes<R, E: Error>(
        of name: String, _ body: (SafetensorsTensorInfo, UnsafeRawBufferPointer) throws(E) -> R
    ) throws -> R {
        let info = try info(name)
        let start = header.dataOffset
        return try file.withUnsafeBytes { all throws(E) in
            try body(info, UnsafeRawBufferPointer(rebasing: all[(start + info.byteRange.lowerBound)..<(start + info.byteRange.upperBound)]))
        }
    }

    /// Converts one tensor's elements to `Float`, writing them into `output`.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/unsupportedFormat`` for a dtype
    ///   other than F32, F16, BF16; ``SearchCore/SearchError/Code/dimensionMismatch``
    ///   when `output` does not hold exactly the tensor's elements.
    public func readFloats(_ name: String, into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        let info = try info(name)
        guard info.dtype.isFloatingPoint else {
            throw SearchError(.unsupportedFormat, "tensor \"\(name)\" is \(info.dtype.rawValue); weights are read from F32, F16 or BF16")
        }
        guard output.count == info.elementCount else {
            throw SearchError(.dimensionMismatch, "tensor \"\(name)\" has \(info.elementCount) elements; the buffer holds \(output.count)")
        }
        let start = header.dataOffset + info.byteRange.lowerBound
        let count = info.elementCount
        guard count > 0, let out = output.baseAddress else { return }
        file.withUnsafeBytes { all in
            let source = all.baseAddress! + start
            switch info.dtype {
            case .float32:
                // Little-endian host: the bytes are the floats (any alignment).
                UnsafeMutableRawPointer(out).copyMemory(from: source, byteCount: count * 4)
            case .float16:
                for i in 0..<count {
                    out[i] = Half(bitPattern: UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))).float
                }
            case .bfloat16:
                for i in 0..<count {
                    let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                    out[i] = Float(bitPattern: UInt32(bits) << 16)
                }
            default:
                break
            }
        }
    }

    /// One tensor as a new `Tensor<Float>` of the file's shape (a scalar becomes shape `[]`).
    public func floats(_ name: String) throws(SearchError) -> Tensor<Float> {
        let info = try info(name)
        var tensor = Tensor<Float>(shape: info.shape)
        var failure: SearchError?
        tensor.withUnsafeMutableBufferPointer { buffer in
            do throws(SearchError) { try readFloats(name, into: buffer) } catch { failure = error }
        }
        if let failure { throw failure }
        return tensor
    }
}
