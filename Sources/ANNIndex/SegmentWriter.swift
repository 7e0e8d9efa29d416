import SearchCore
import Tensor

/// Builds a segment file (see ``SegmentFormat``): add sections, then write.
///
/// The output depends only on what was added, in the order it was added — no
/// timestamps, no addresses — so the same input gives a byte-identical file.
///
/// ```swift
/// var writer = SegmentWriter(header: SegmentHeader(metric: .cosine, storage: .int8, dimension: 512, count: n))
/// writer.add(.vectors, bytes: codes)
/// writer.add(.ids, bytes: idBytes)
/// try writer.write(to: "/data/index/seg-000001.mmsseg")
/// ```
public struct SegmentWriter: Sendable {
    /// The header to write.
    public var header: SegmentHeader
    private var body: [UInt8] = []
    private var sections: [SegmentSection] = []

    /// A writer for a segment with this header and no sections yet.
    public init(header: SegmentHeader) {
        self.header = header
        body.reserveCapacity(4096)
    }

    /// Appends a section; it will start at a 64-byte boundary.
    ///
    /// - Precondition: each kind is added at most once.
    public mutating func add(_ kind: SegmentSectionKind, encoding: SegmentSectionEncoding = .raw, bytes: UnsafeRawBufferPointer) {
        precondition(!sections.contains { $0.kind == kind }, "segment section \(kind) added twice")
        pad()
        let offset = SegmentFormat.headerSize + body.count
        body.append(contentsOf: bytes)
        sections.append(
            SegmentSection(kind: kind, encoding: encoding, offset: offset, length: bytes.count, checksum: CRC32C.checksum(bytes)))
    }

    /// Appends a section from an array.
    public mutating func add(_ kind: SegmentSectionKind, encoding: SegmentSectionEncoding = .raw, bytes: [UInt8]) {
        bytes.withUnsafeBytes { add(kind, encoding: encoding, bytes: $0) }
    }

    private mutating func pad() {
        let remainder = (SegmentFormat.headerSize + body.count) % SegmentFormat.alignment
        if remainder != 0 { body.append(contentsOf: repeatElement(0, count: SegmentFormat.alignment - remainder)) }
    }

    /// The whole file.
    public func bytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(SegmentFormat.headerSize + body.count + sections.count * 32 + 128)
        out += SegmentFormat.magic
        LittleEndian.append(SegmentFormat.version, to: &out)
        out.append(header.metric.rawValue)
        out.append(header.storage.rawValue)
        LittleEndian.append(header.flags.rawValue, to: &out)
        LittleEndian.append(UInt32(header.dimension), to: &out)
        LittleEndian.append(UInt32(0), to: &out)
        LittleEndian.append(UInt64(header.count), to: &out)
        LittleEndian.append(header.seed, to: &out)
        out += [UInt8](repeating: 0, count: 20)
        LittleEndian.append(CRC32C.checksum(out), to: &out)
        out += body
        let remainder = out.count % SegmentFormat.alignment
        if remainder != 0 { out += [UInt8](repeating: 0, count: SegmentFormat.alignment - remainder) }
        let tableOffset = out.count
        var table: [UInt8] = []
        for s in sections {
            LittleEndian.append(s.kind.rawValue, to: &table)
            LittleEndian.append(s.encoding.rawValue, to: &table)
            LittleEndian.append(UInt64(s.offset), to: &table)
            LittleEndian.append(UInt64(s.length), to: &table)
            LittleEndian.append(s.checksum, to: &table)
            LittleEndian.append(UInt32(0), to: &table)
        }
        LittleEndian.append(UInt32(sections.count), to: &table)
        let tableChecksum = CRC32C.checksum(table)
        out += table
        LittleEndian.append(tableChecksum, to: &out)
        LittleEndian.append(UInt64(tableOffset), to: &out)
        out += SegmentFormat.magic
        return out
    }

    /// Writes the file durably and atomically: to `path.tmp`, flushed, renamed
    /// over `path`, directory flushed. A reader never sees half a segment.
    public func write(to path: String) throws(SearchError) {
        try FileSystem.replaceAtomically(path, with: bytes())
    }
}
