import SearchCore

/// The segment file format, version 1: one immutable file holding a part of
/// an index (its vectors, graph, identifiers), memory-mapped for search.
///
/// All integers are little-endian. Every section starts at a multiple of 64
/// bytes, so vectors can be used in place by the SIMD kernels.
///
/// **Header** (64 bytes at offset 0):
///
/// | offset | size | field |
/// | --- | --- | --- |
/// | 0 | 8 | magic `MMSSEGv1` (`4D 4D 53 53 45 47 76 31`) |
/// | 8 | 4 | format version, 1 |
/// | 12 | 1 | metric: ``Metric`` raw value (1 squared L2, 2 inner product, 3 cosine) |
/// | 13 | 1 | storage: ``SegmentStorage`` raw value (1 float32, 2 float16, 3 int8) |
/// | 14 | 2 | flags (``SegmentHeader/Flags``) |
/// | 16 | 4 | dimension |
/// | 20 | 4 | reserved, 0 |
/// | 24 | 8 | vector count |
/// | 32 | 8 | the seed the graph was built with |
/// | 40 | 20 | reserved, 0 |
/// | 60 | 4 | CRC-32C of bytes 0 ..< 60 |
///
/// **Sections** follow, each at a 64-byte boundary, zero padding between.
/// Which sections a segment with a graph has, and their layouts, are in
/// ``SegmentGraphMetadata`` and the "On-disk formats" article.
///
/// **Footer** at the end of the file:
///
/// | size | field |
/// | --- | --- |
/// | 32 × N | section table: per section `kind` u32 (``SegmentSectionKind``), `encoding` u32 (``SegmentSectionEncoding``), `offset` u64, `length` u64, CRC-32C of the section's bytes u32, reserved u32 |
/// | 4 | N, the number of sections |
/// | 4 | CRC-32C of the section table and N |
/// | 8 | offset of the section table |
/// | 8 | magic `MMSSEGv1` again |
///
/// A reader checks, before it trusts any offset: both magics, the version
/// (an unknown one is refused with ``SearchError/Code/unsupportedFormat``),
/// the header checksum, that the table ends exactly at the trailer, the table
/// checksum, that every section lies 64-byte aligned between the header and
/// the table without overlapping another, and (unless told to defer it)
/// every section's checksum. Any failure is ``SearchError/Code/corruptData``
/// naming the file and the offset.
public enum SegmentFormat {
    /// `MMSSEGv1`.
    public static let magic: [UInt8] = Array("MMSSEGv1".utf8)
    /// The version this build writes and reads.
    public static let version: UInt32 = 1
    /// Header size; also the alignment of every section.
    public static let headerSize = 64
    /// Section alignment.
    public static let alignment = 64
    /// Bytes per section-table entry.
    public static let tableEntrySize = 32
    /// Bytes after the table: count, checksum, table offset, magic.
    public static let trailerSize = 24
}

/// How a segment stores vectors. Raw values are on disk and never change.
public enum SegmentStorage: UInt8, Sendable, CaseIterable {
    case float32 = 1
    case float16 = 2
    case int8 = 3
}

/// What a section holds. Raw values are on disk and never change; a reader
/// skips kinds it does not know (a later minor addition), but never
/// misreads a known one.
public struct SegmentSectionKind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The on-disk value.
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Stored vectors, `count` rows in the segment's storage, row stride 64-byte aligned.
    public static let vectors = SegmentSectionKind(rawValue: 1)
    /// Per-vector float32 scales (int8 storage).
    public static let scales = SegmentSectionKind(rawValue: 2)
    /// External identifiers, `count` × u64.
    public static let ids = SegmentSectionKind(rawValue: 3)
    /// Level-0 graph links.
    public static let graphLevel0 = SegmentSectionKind(rawValue: 4)
    /// Links of the levels above 0.
    public static let graphUpper = SegmentSectionKind(rawValue: 5)
    /// Float32 originals for exact re-scoring.
    public static let originals = SegmentSectionKind(rawValue: 6)
    /// The graph's fixed description (``SegmentGraphMetadata``).
    public static let metadata = SegmentSectionKind(rawValue: 7)

    public var description: String {
        switch self {
        case .vectors: "vectors"
        case .scales: "scales"
        case .ids: "ids"
        case .graphLevel0: "graph level 0"
        case .graphUpper: "graph upper levels"
        case .originals: "float32 originals"
        case .metadata: "metadata"
        case .idMap: "id map"
        case .graphLevel0Index: "level-0 block index"
        default: "section kind \(rawValue)"
        }
    }
}

/// How a section's bytes are coded. Raw values are on disk and never change.
public enum SegmentSectionEncoding: UInt32, Sendable {
    /// The bytes as they are.
    case raw = 0
    /// LZ4 blocks: see ``LZ4Blocks``.
    case lz4Blocks = 1
}

/// The fixed header of a segment.
public struct SegmentHeader: Sendable, Hashable {
    /// Flag bits; unknown bits are refused.
    public struct Flags: OptionSet, Sendable, Hashable {
        /// The flag bits as stored.
        public var rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        /// The segment carries float32 originals for re-scoring.
        public static let hasOriginals = Flags(rawValue: 1 << 0)
        static let known: Flags = [.hasOriginals]
    }

    /// How the vectors are compared.
    public var metric: Metric
    /// How the vectors are stored.
    public var storage: SegmentStorage
    /// Optional features present.
    public var flags: Flags
    /// Components per vector.
    public var dimension: Int
    /// Vectors in the segment, live or deleted.
    public var count: Int
    /// The seed the graph was built with (0 without a graph).
    public var seed: UInt64

    public init(metric: Metric, storage: SegmentStorage, flags: Flags = [], dimension: Int, count: Int, seed: UInt64 = 0) {
        self.metric = metric
        self.storage = storage
        self.flags = flags
        self.dimension = dimension
        self.count = count
        self.seed = seed
    }
}

/// One entry of the section table.
public struct SegmentSection: Sendable, Hashable {
    /// What the section holds.
    public var kind: SegmentSectionKind
    /// How its bytes are coded.
    public var encoding: SegmentSectionEncoding
    /// Byte offset from the start of the file (a multiple of 64).
    public var offset: Int
    /// Length in bytes.
    public var length: Int
    /// CRC-32C of the section's bytes.
    public var checksum: UInt32
}
