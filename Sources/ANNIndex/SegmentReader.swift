import SearchCore
import StoragePrimitives
import Tensor

/// An open, validated, memory-mapped segment (see ``SegmentFormat``).
///
/// Immutable once opened, so any number of searches read it concurrently
/// without locks; the mapping is released when the last reference goes.
///
/// ```swift
/// let segment = try SegmentReader(path: "/data/index/seg-000001.mmsseg")
/// let vectors = try segment.section(.vectors)      // zero-copy view of the mapped bytes
/// ```
public final class SegmentReader: Sendable {
    /// How much is checked when the file is opened.
    public enum Verification: Sendable {
        /// Header, footer, table and every section's checksum (reads the whole file).
        case full
        /// Header, footer and table; each section's checksum is checked by
        /// ``verifySections()`` when the caller chooses (opening stays O(1)
        /// in the file's size).
        case structure
    }

    /// The file's path.
    public let path: String
    /// The header.
    public let header: SegmentHeader
    /// The sections, in file order.
    public let sections: [SegmentSection]
    private let mapping: MappedFile

    /// Opens and validates a segment.
    ///
    /// - Throws: ``SearchError`` — `.notFound`, `.io`, `.unsupportedFormat` for
    ///   another format version, `.corruptData` (naming the file and offset)
    ///   for anything that fails a check.
    public init(path: String, verification: Verification = .full) throws(SearchError) {
        let mapping = try MappedFile(path: path)
        let (header, sections) = try Self.validate(mapping.bytes, path: path)
        self.path = path
        self.header = header
        self.sections = sections
        self.mapping = mapping
        if verification == .full { try verifySections() }
    }

    /// The file's size in bytes.
    public var fileSize: Int { mapping.count }

    /// The bytes of a section, straight from the mapping (valid while this reader lives).
    ///
    /// - Throws: ``SearchError/Code/notFound`` when the segment has no such section.
    public func section(_ kind: SegmentSectionKind) throws(SearchError) -> UnsafeRawBufferPointer {
        guard let s = sections.first(where: { $0.kind == kind }) else {
            throw SearchError(.notFound, "\(path) has no \(kind) section")
        }
        return UnsafeRawBufferPointer(rebasing: mapping.bytes[s.offset..<(s.offset + s.length)])
    }

    /// Whether the segment has a section of this kind.
    public func has(_ kind: SegmentSectionKind) -> Bool { sections.contains { $0.kind == kind } }

    /// Checks every section's CRC-32C.
    public func verifySections() throws(SearchError) {
        for s in sections { try verify(s) }
    }

    /// Checks one section's CRC-32C, if the segment has it.
    public func verifySection(_ kind: SegmentSectionKind) throws(SearchError) {
        if let s = sections.first(where: { $0.kind == kind }) { try verify(s) }
    }

    private func verify(_ s: SegmentSection) throws(SearchError) {
        let bytes = UnsafeRawBufferPointer(rebasing: mapping.bytes[s.offset..<(s.offset + s.length)])
        let actual = CRC32C.checksum(bytes)
        guard actual == s.checksum else {
            throw SearchError(
                .corruptData,
                "\(path): the \(s.kind) section at offset \(s.offset) (\(s.length) bytes) fails its checksum (\(hex(actual)), expected \(hex(s.checksum)))")
        }
    }

    /// Asks the kernel to read a section ahead, so the first queries do not
    /// fault its pages in one by one.
    public func prefetch(_ kind: SegmentSectionKind) {
        guard let s = sections.first(where: { $0.kind == kind }) else { return }
        mapping.willNeed(s.offset..<(s.offset + s.length))
    }

    /// Tells the kernel a section is read at random (a few rows at a time), so
    /// a page fault reads one page instead of a whole read-ahead window.
    public func adviseRandomAccess(_ kind: SegmentSectionKind) {
        guard let s = sections.first(where: { $0.kind == kind }) else { return }
        mapping.randomAccess(s.offset..<(s.offset + s.length))
    }

    private static func corrupt(_ path: String, _ offset: Int, _ what: String) -> SearchError {
        SearchError(.corruptData, "\(path) at offset \(offset): \(what)")
    }

    /// Validates a segment image in memory (header, footer, section table;
    /// not the sections' checksums) and returns its header and sections.
    /// `path` only names the source in error messages.
    public static func validate(_ b: UnsafeRawBufferPointer, path: String) throws(SearchError) -> (SegmentHeader, [SegmentSection]) {
        let minimum = SegmentFormat.headerSize + SegmentFormat.trailerSize
        guard b.count >= minimum else {
            throw corrupt(path, 0, "the file is \(b.count) bytes, shorter than a segment's header and trailer (\(minimum))")
        }
        guard b.prefix(8).elementsEqual(SegmentFormat.magic) else {
            throw corrupt(path, 0, "not a segment file (no MMSSEGv1 magic)")
        }
        let version = LittleEndian.read(UInt32.self, b, at: 8)
        guard version == SegmentFormat.version else {
            throw SearchError(
                .unsupportedFormat, "\(path) is segment format version \(version); this build reads version \(SegmentFormat.version)")
        }
        let headerChecksum = LittleEndian.read(UInt32.self, b, at: 60)
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: b[0..<60])) == headerChecksum else {
            throw corrupt(path, 60, "the header fails its checksum")
        }
        guard let metric = Metric(rawValue: b[12]) else { throw corrupt(path, 12, "unknown metric \(b[12])") }
        guard let storage = SegmentStorage(rawValue: b[13]) else { throw corrupt(path, 13, "unknown storage \(b[13])") }
        let flags = SegmentHeader.Flags(rawValue: LittleEndian.read(UInt16.self, b, at: 14))
        guard flags.isSubset(of: .known) else { throw corrupt(path, 14, "unknown flags \(flags.rawValue)") }
        let dimension = Int(LittleEndian.read(UInt32.self, b, at: 16))
        let count = LittleEndian.read(UInt64.self, b, at: 24)
        guard dimension > 0, dimension <= 65_536, count <= UInt64(Int32.max) else {
            throw corrupt(path, 16, "implausible dimension \(dimension) or count \(count)")
        }
        let header = SegmentHeader(
            metric: metric, storage: storage, flags: flags, dimension: dimension, count: Int(count),
            seed: LittleEndian.read(UInt64.self, b, at: 32))

        let trailer = b.count - SegmentFormat.trailerSize
        guard b[(trailer + 16)...].elementsEqual(SegmentFormat.magic) else {
            throw corrupt(path, trailer + 16, "the trailer has no MMSSEGv1 magic (a truncated file?)")
        }
        let sectionCount = Int(LittleEndian.read(UInt32.self, b, at: trailer))
        let tableChecksum = LittleEndian.read(UInt32.self, b, at: trailer + 4)
        let tableOffset = LittleEndian.read(UInt64.self, b, at: trailer + 8)
        guard sectionCount <= 1024, tableOffset <= UInt64(trailer),
            Int(tableOffset) + sectionCount * SegmentFormat.tableEntrySize == trailer,
            Int(tableOffset) >= SegmentFormat.headerSize
        else {
            throw corrupt(path, trailer, "the section table (\(sectionCount) entries at \(tableOffset)) does not end at the trailer")
        }
        let table = Int(tableOffset)
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: b[table..<(trailer + 4)])) == tableChecksum else {
            throw corrupt(path, table, "the section table fails its checksum")
        }
        var sections: [SegmentSection] = []
        var end = SegmentFormat.headerSize
        for i in 0..<sectionCount {
            let e = table + i * SegmentFormat.tableEntrySize
            let kind = SegmentSectionKind(rawValue: LittleEndian.read(UInt32.self, b, at: e))
            let rawEncoding = LittleEndian.read(UInt32.self, b, at: e + 4)
            let offset = LittleEndian.read(UInt64.self, b, at: e + 8)
            let length = LittleEndian.read(UInt64.self, b, at: e + 16)
            guard let encoding = SegmentSectionEncoding(rawValue: rawEncoding) else {
                throw corrupt(path, e + 4, "section \(i) has unknown encoding \(rawEncoding)")
            }
            guard offset % UInt64(SegmentFormat.alignment) == 0, offset >= UInt64(end), length <= UInt64(table),
                offset + length <= UInt64(table)
            else {
                throw corrupt(path, e + 8, "section \(i) (\(kind)) at \(offset), \(length) bytes, is misplaced")
            }
            guard !sections.contains(where: { $0.kind == kind }) else {
                throw corrupt(path, e, "section kind \(kind) appears twice")
            }
            sections.append(
                SegmentSection(
                    kind: kind, encoding: encoding, offset: Int(offset), length: Int(length),
                    checksum: LittleEndian.read(UInt32.self, b, at: e + 24)))
            end = Int(offset + length)
        }
        return (header, sections)
    }
}

private func hex(_ v: UInt32) -> String {
    let digits = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
