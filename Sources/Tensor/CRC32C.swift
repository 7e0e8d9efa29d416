import CSearchKernels

/// CRC-32C (Castagnoli), the checksum of this package's on-disk formats.
///
/// Uses the CPU's CRC instruction where it has one (SSE 4.2, ARMv8), about
/// 20 GB/s; otherwise slicing-by-8 tables. Incremental:
///
/// ```swift
/// var crc = CRC32C()
/// crc.update(header)
/// crc.update(body)
/// let value = crc.value          // == CRC32C.checksum(header + body)
/// ```
public struct CRC32C: Sendable, Hashable {
    /// The checksum of everything added so far.
    public private(set) var value: UInt32 = 0

    /// A checksum of nothing yet (0).
    public init() {}

    /// Adds bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        value = mms_crc32c(value, base, bytes.count)
    }

    /// Adds bytes.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The checksum of `bytes`.
    @inlinable
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return 0 }
        return mms_crc32c(0, base, bytes.count)
    }

    /// The checksum of `bytes`.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }
}
