import CSearchKernels
import SearchCore
import StoragePrimitives

/// The on-disk format of one immutable keyword segment (`seg-<n>.lex`).
///
/// Every integer little-endian. A segment holds documents numbered 0..<D in
/// the order they were added; each has the host's ``SearchCore/VectorID``.
///
/// **Header** (64 bytes):
///
/// | offset | size | field |
/// | --- | --- | --- |
/// | 0 | 8 | magic `MMSLEX01` (ASCII) |
/// | 8 | 4 | format version u32, 1 |
/// | 12 | 4 | field count F u32 |
/// | 16 | 4 | document count D u32 |
/// | 20 | 4 | term count T u32 |
/// | 24 | 8 | ids offset u64: D × u64 identifiers |
/// | 32 | 8 | lengths offset u64: F × D × u32 field lengths in terms, field by field |
/// | 40 | 8 | term table offset u64: T × 40-byte entries, sorted by (field, term bytes) |
/// | 48 | 8 | term bytes offset u64: the terms' UTF-8, back to back |
/// | 56 | 8 | postings offset u64: where the postings area starts |
///
/// **Field statistics** at 64: F × (total length u64, documents with the field u32, reserved u32).
///
/// **Term entry** (40 bytes): field u16, term length u16, term offset u32
/// (from the term bytes), document frequency u32, block count u32, blocks
/// offset u64 (absolute), the list's largest term frequency u32, the list's
/// shortest field length u32, data length u32 (bytes after the block table), reserved u32.
///
/// **Postings** of a term, at its blocks offset: the block table, one 20-byte
/// entry per block of up to ``blockSize`` documents (last document u32, docs
/// offset u32 and positions offset u32 from the data start, largest term
/// frequency u32, shortest field length u32), then the data: per block, the
/// document gaps as LEB128 varints (the first from the previous block's last
/// document, or from 0), the term frequencies as varints, and the positions
/// (per document, `tf` gaps as varints, the first from 0).
///
/// **Footer**: CRC-32C (Castagnoli) u32 of every byte before it.
///
/// The reader checks magic, version, the checksum and every offset and count
/// against the file size before it trusts any of them; decoding postings is
/// bounds-checked, so a hostile file with a valid checksum ends a list early
/// rather than reading out of bounds.
enum LexicalSegmentFormat {
    static let magic: [UInt8] = Array("MMSLEX01".utf8)
    static let version: UInt32 = 1
    static let headerSize = 64
    static let fieldStatisticsSize = 16
    static let termEntrySize = 40
    static let blockEntrySize = 20
    /// Documents per postings block (the unit of skipping and of block-max bounds).
    static let blockSize = 128
}

/// CRC-32C of `bytes`.
@inline(__always)
func crc32c(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
    guard let base = bytes.baseAddress, !bytes.isEmpty else { return seed }
    return mms_crc32c(seed, base, bytes.count)
}

/// Appends `value` as an unsigned LEB128 varint.
@inline(__always)
func appendVarint(_ value: UInt32, to out: inout [UInt8]) {
    var v = value
    while v >= 0x80 {
        out.append(UInt8(truncatingIfNeeded: v) | 0x80)
        v >>= 7
    }
    out.append(UInt8(v))
}

/// Reads a varint at `offset`, bounds-checked against `end`; nil when it runs off the end or is longer than 5 bytes.
@inline(__always)
func readVarint(_ base: UnsafeRawPointer, _ offset: inout Int, end: Int) -> UInt32? {
    var result: UInt32 = 0
    var shift: UInt32 = 0
    while offset < end {
        let byte = base.load(fromByteOffset: offset, as: UInt8.self)
        offset += 1
        result |= UInt32(byte & 0x7F) << shift
        if byte < 0x80 { return result }
        shift += 7
        if shift > 28 { return nil }
    }
    return nil
}
