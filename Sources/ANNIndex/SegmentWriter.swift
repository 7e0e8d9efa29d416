import SearchCore
import StoragePrimitives
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

    /// Appends a section of `byteCount` bytes that `fill` writes in place
    /// (zeroed before it runs), saving a copy of a large section.
    public mutating func add(
        _ kind: SegmentSectionKind, encoding: SegmentSectionEncoding = .raw, byteCount: Int,
        fill: (UnsafeMutableRawBufferPointer) -> Void
    ) {
        precondition(!sections.contains { $0.kind == kind }, "segment section \(kind) added twice")
        pad()
        let start = body.count
        body.append(contentsOf: repeatElement(0, count: byteCount))
        let checksum = body.withUnsafeMutableBytes { all in
            let section = UnsafeMutableRawBufferPointer(rebasing: all[start..<(start + byteCount)])
            fill(section)
            return CRC32C.checksum(UnsafeRawBufferPointer(section))
        }
        sections.append(
            SegmentSection(kind: kind, encoding: encoding, offset: SegmentFormat.headerSize + start, length: byteCount, checksum: checksum))
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
        let (head, tail) = frame()
        return head + body + tail
    }

    /// The bytes before the sections (the header) and after them (padding,
    /// section table, trailer).
    private func frame() -> (head: [UInt8], tail: [UInt8]) {
        var head: [UInt8] = []
        head += SegmentFormat.magic
        LittleEndian.append(SegmentFormat.version, to: &head)
        head.append(header.metric.rawValue)
        head.append(header.storage.rawValue)
        LittleEndian.append(header.flags.rawValue, to: &head)
        LittleEndian.append(UInt32(header.dimension), to: &head)
        LittleEndian.append(UInt32(0), to: &head)
        LittleEndian.append(UInt64(header.count), to: &head)
        LittleEndian.append(header.seed, to: &head)
        head += [UInt8](repeating: 0, count: 20)
        LittleEndian.append(CRC32C.checksum(head), to: &head)
        var tail: [UInt8] = []
        let remainder = (head.count + body.count) % SegmentFormat.alignment
        if remainder != 0 { tail += [UInt8](repeating: 0, count: SegmentFormat.alignment - remainder) }
        let tableOffset = head.count + body.count + tail.count
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
        tail += table
        LittleEndian.append(tableChecksum, to: &tail)
        LittleEndian.append(UInt64(tableOffset), to: &tail)
        tail += SegmentFormat.magic
        return (head, tail)
    }

    /// Writes the file durably and atomically: to a unique temporary file beside it, flushed, renamed
    /// over `path`, directory flushed. A reader never sees half a segment.
    public func write(to path: String) throws(SearchError) {
        let (head, tail) = frame()
        try AtomicFile.replace(path, with: [head, body, tail])
    }
}
