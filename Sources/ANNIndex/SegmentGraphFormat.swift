import SearchCore
import StoragePrimitives

extension SegmentSectionKind {
    /// Identifiers sorted ascending with their rows, for lookups by id:
    /// `n` × u64 identifiers, then `n` × u32 rows (only rows live when the
    /// segment was written).
    public static let idMap = SegmentSectionKind(rawValue: 8)
    /// Where each level-0 block lies, for decoding any one alone: per block
    /// the offset of its stored bytes within the level-0 section (u64), its
    /// stored and raw lengths (u32 each), the CRC-32C of its stored bytes
    /// (u32, checked when the block is decoded) and 4 reserved bytes.
    public static let graphLevel0Index = SegmentSectionKind(rawValue: 9)
}

/// The fixed description of a segment's HNSW graph: the `metadata` section,
/// 64 bytes, little-endian.
///
/// | offset | size | field |
/// | --- | --- | --- |
/// | 0 | 4 | *M* (most neighbours on layers ≥ 1) |
/// | 4 | 4 | *M_max0* (most neighbours on layer 0) |
/// | 8 | 4 | *efConstruction* the graph was built with |
/// | 12 | 4 | entry point (a row) |
/// | 16 | 4 | entry point's top layer |
/// | 20 | 4 | bytes of one code |
/// | 24 | 4 | row stride of the `vectors` section (a multiple of 64) |
/// | 28 | 4 | rows per level-0 block, a power of two up to 4,096 |
/// | 32 | 4 | row order: 0 insertion, 1 breadth-first from the entry point |
/// | 36 | 4 | re-scoring oversampling |
/// | 40 | 24 | reserved, 0 |
public struct SegmentGraphMetadata: Sendable, Hashable {
    /// How the rows of a segment are ordered. Raw values are on disk.
    public enum RowOrder: UInt32, Sendable {
        /// The order vectors were inserted in.
        case insertion = 0
        /// Breadth-first over layer 0 from the entry point, so neighbours get nearby rows.
        case breadthFirst = 1
    }

    /// Bytes of the section.
    public static let size = 64

    public var m: Int
    public var m0: Int
    public var efConstruction: Int
    public var entryPoint: Int
    public var entryLevel: Int
    public var codeBytes: Int
    public var codeStride: Int
    public var blockRows: Int
    public var order: RowOrder
    public var rescoringOversampling: Int

    func encoded() -> [UInt8] {
        var out: [UInt8] = []
        for v in [m, m0, efConstruction, entryPoint, entryLevel, codeBytes, codeStride, blockRows] {
            LittleEndian.append(UInt32(v), to: &out)
        }
        LittleEndian.append(order.rawValue, to: &out)
        LittleEndian.append(UInt32(rescoringOversampling), to: &out)
        out += [UInt8](repeating: 0, count: Self.size - out.count)
        return out
    }

    /// Reads and checks the section against the segment's header.
    static func decode(_ b: UnsafeRawBufferPointer, header: SegmentHeader, path: String) throws(SearchError) -> SegmentGraphMetadata {
        func corrupt(_ what: String) -> SearchError { SearchError(.corruptData, "\(path): graph metadata: \(what)") }
        guard b.count == size else { throw corrupt("\(b.count) bytes, expected \(size)") }
        func field(_ i: Int) -> Int { Int(LittleEndian.read(UInt32.self, b, at: 4 * i)) }
        guard let order = RowOrder(rawValue: UInt32(field(8))) else { throw corrupt("unknown row order \(field(8))") }
        let metadata = SegmentGraphMetadata(
            m: field(0), m0: field(1), efConstruction: field(2), entryPoint: field(3), entryLevel: field(4),
            codeBytes: field(5), codeStride: field(6), blockRows: field(7), order: order, rescoringOversampling: field(9))
        guard (2...256).contains(metadata.m), (metadata.m...512).contains(metadata.m0) else {
            throw corrupt("M = \(metadata.m), M_max0 = \(metadata.m0) are out of range")
        }
        guard header.count == 0 || metadata.entryPoint < header.count, metadata.entryLevel <= 15 else {
            throw corrupt("entry point \(metadata.entryPoint) at layer \(metadata.entryLevel) is outside \(header.count) rows")
        }
        guard metadata.codeStride % SegmentFormat.alignment == 0, metadata.codeBytes <= metadata.codeStride,
            (1...4_096).contains(metadata.blockRows), metadata.blockRows.nonzeroBitCount == 1, (1...64).contains(metadata.rescoringOversampling)
        else {
            throw corrupt("code \(metadata.codeBytes) bytes in a stride of \(metadata.codeStride), \(metadata.blockRows) rows a block")
        }
        return metadata
    }
}
