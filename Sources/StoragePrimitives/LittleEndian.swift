/// Little-endian coding of fixed-width integers, for every on-disk format in
/// the package: each read and write states its byte order by going through here.
///
/// Marked inlinable, but a release build was seen still calling the generic
/// entry point from another module (generic metadata on every call): a loop
/// that reads one value per element at open time reads in place instead
/// (`ItemSnapshot`'s id table).
package enum LittleEndian {
    /// Appends `value`'s bytes, least significant first.
    @inlinable package static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Reads a `T` at `offset`, which need not be aligned; the caller has checked the bounds.
    @inlinable package static func read<T: FixedWidthInteger>(_ type: T.Type, _ bytes: UnsafeRawBufferPointer, at offset: Int) -> T {
        T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    /// Reads a `T` at `offset` of an array; the caller has checked the bounds.
    @inlinable package static func read<T: FixedWidthInteger>(_ type: T.Type, _ bytes: [UInt8], at offset: Int) -> T {
        bytes.withUnsafeBytes { read(type, $0, at: offset) }
    }

    /// Writes `value` at `offset`, which need not be aligned; the caller has checked the bounds.
    @inlinable package static func store<T: FixedWidthInteger>(_ value: T, into bytes: UnsafeMutableRawBufferPointer, at offset: Int) {
        bytes.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
    }
}
