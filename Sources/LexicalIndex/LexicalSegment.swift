import SearchCore
import StoragePrimitives

/// The bytes of one segment: a mapped file, or a buffer in memory for a
/// segment built from the head and not written.
///
/// `@unchecked Sendable` is sound: the bytes never change after `init`
/// (a read-only mapping, or a buffer this object alone allocated and filled
/// before publishing it), and the object frees them only in `deinit`.
final class SegmentBytes: @unchecked Sendable {
    private let mapping: MappedFile?
    private let owned: UnsafeMutableRawBufferPointer?
    let bytes: UnsafeRawBufferPointer

    init(mapping: consuming MappedFile) {
        let view = mapping.bytes
        self.mapping = consume mapping
        owned = nil
        bytes = view
    }

    init(copying source: [UInt8]) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(source.count, 1), alignment: 16)
        source.withUnsafeBytes { buffer.copyMemory(from: $0) }
        mapping = nil
        owned = buffer
        bytes = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<source.count])
    }

    deinit {
        owned?.deallocate()
    }
}

/// One term's entry in a segment's term table, as read (and bounds-checked).
struct TermInfo {
    var field: Int
    var documentFrequency: Int
    var blockCount: Int
    /// Absolute offset of the block table.
    var blocksOffset: Int
    /// Absolute offset of the data after the block table.
    var dataOffset: Int
    var dataLength: Int
    var maxTF: UInt32
    var minLength: UInt32
}

/// An immutable keyword segment, read in place from its bytes.
///
/// Opening verifies the header, the checksum and the layout; nothing is
/// decoded up front: terms are found by binary search in the mapped term
/// table, postings are decoded block by block as a query reads them.
final class LexicalSegment: Sendable {
    typealias Format = LexicalSegmentFormat

    let storage: SegmentBytes
    let fieldCount: Int
    let documentCount: Int
    let termCount: Int
    /// Per field: total length (terms) and documents with at least one term.
    let fieldTotals: [UInt64]
    let fieldDocuments: [Int]
    private let idsOffset: Int
    private let lengthsOffset: Int
    private let termTableOffset: Int
    private let termBytesOffset: Int
    private let termBytesEnd: Int
    private let postingsOffset: Int
    private let postingsEnd: Int

    /// Opens a segment from its bytes, checking everything before trusting it.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/corruptData`` naming `name`
    ///   and what failed; `.unsupportedFormat` for another version.
    init(_ storage: SegmentBytes, name: String, expectedFields: Int? = nil, verifyChecksum: Bool = true) throws(SearchError) {
        let bytes = storage.bytes
        func corrupt(_ what: String) -> SearchError {
            SearchError(.corruptData, "keyword segment \(name): \(what); the file is damaged (restore it or rebuild the index)")
        }
        guard bytes.count >= Format.headerSize + 4 else { throw corrupt("\(bytes.count) bytes, shorter than a header") }
        guard bytes.prefix(8).elementsEqual(Format.magic) else { throw corrupt("no MMSLEX01 magic") }
        let version = LittleEndian.read(UInt32.self, bytes, at: 8)
        guard version == Format.version else {
            throw SearchError(.unsupportedFormat, "keyword segment \(name) has format version \(version); this build reads \(Format.version)")
        }
        let body = UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count - 4)])
        let stored = LittleEndian.read(UInt32.self, bytes, at: bytes.count - 4)
        guard !verifyChecksum || crc32c(body) == stored else { throw corrupt("checksum mismatch") }
        let f = Int(LittleEndian.read(UInt32.self, bytes, at: 12))
        let d = Int(LittleEndian.read(UInt32.self, bytes, at: 16))
        let t = Int(LittleEndian.read(UInt32.self, bytes, at: 20))
        let end = body.count
        guard f >= 1, f <= 1024 else { throw corrupt("field count \(f) out of range") }
        if let expectedFields, expectedFields != f {
            throw SearchError(.invalidArgument, "keyword segment \(name) has \(f) fields; the index is configured with \(expectedFields)")
        }
        func offset(_ at: Int) throws(SearchError) -> Int {
            let v = LittleEndian.read(UInt64.self, bytes, at: at)
            guard v <= UInt64(end) else { throw corrupt("offset \(v) at byte \(at) past the end") }
            return Int(v)
        }
        let ids = try offset(24), lengths = try offset(32), table = try offset(40), termBytes = try offset(48)
        let postings = try offset(56)
        let statsEnd = Format.headerSize + f * Format.fieldStatisticsSize
        guard statsEnd <= ids, ids + d * 8 == lengths, lengths + f * d * 4 == table,
            table + t * Format.termEntrySize == termBytes, termBytes <= postings, postings <= end
        else { throw corrupt("sections out of order or of the wrong size") }
        var totals: [UInt64] = []
        var withField: [Int] = []
        for i in 0..<f {
            let at = Format.headerSize + i * Format.fieldStatisticsSize
            totals.append(LittleEndian.read(UInt64.self, bytes, at: at))
            let n = Int(LittleEndian.read(UInt32.self, bytes, at: at + 8))
            guard n <= d else { throw corrupt("field \(i) counts \(n) documents of \(d)") }
            withField.append(n)
        }
        self.storage = storage
        fieldCount = f
        documentCount = d
        termCount = t
        fieldTotals = totals
        fieldDocuments = withField
        idsOffset = ids
        lengthsOffset = lengths
        termTableOffset = table
        termBytesOffset = termBytes
        termBytesEnd = postings
        postingsOffset = postings
        postingsEnd = end
        // Every term entry: its bytes and its postings inside their sections.
        for i in 0..<t {
            guard entry(i) != nil else { throw corrupt("term entry \(i) points outside the file") }
        }
    }

    var bytes: UnsafeRawBufferPointer { storage.bytes }

    /// The host identifier of document `doc`.
    @inline(__always)
    func id(_ doc: Int) -> VectorID {
        VectorID(rawValue: LittleEndian.read(UInt64.self, bytes, at: idsOffset + doc * 8))
    }

    /// The length of field `field` of document `doc`, in terms.
    @inline(__always)
    func length(field: Int, doc: Int) -> UInt32 {
        LittleEndian.read(UInt32.self, bytes, at: lengthsOffset + (field * documentCount + doc) * 4)
    }

    /// The start of field `field`'s lengths (D little-endian u32 values).
    func lengthsBase(field: Int) -> UnsafeRawPointer {
        bytes.baseAddress! + lengthsOffset + field * documentCount * 4
    }

    /// The term bytes of entry `i` (trusted: the entry was checked at open).
    func termBytes(_ i: Int) -> UnsafeRawBufferPointer {
        let at = termTableOffset + i * Format.termEntrySize
        let length = Int(LittleEndian.read(UInt16.self, bytes, at: at + 2))
        let start = termBytesOffset + Int(LittleEndian.read(UInt32.self, bytes, at: at + 4))
        return UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)])
    }

    func termField(_ i: Int) -> Int { Int(LittleEndian.read(UInt16.self, bytes, at: termTableOffset + i * Format.termEntrySize)) }

    func term(_ i: Int) -> String { String(decoding: termBytes(i), as: UTF8.self) }

    /// Entry `i`, or nil when it does not fit the file.
    func entry(_ i: Int) -> TermInfo? {
        let at = termTableOffset + i * Format.termEntrySize
        let field = Int(LittleEndian.read(UInt16.self, bytes, at: at))
        let length = Int(LittleEndian.read(UInt16.self, bytes, at: at + 2))
        let start = Int(LittleEndian.read(UInt32.self, bytes, at: at + 4))
        let df = Int(LittleEndian.read(UInt32.self, bytes, at: at + 8))
        let blocks = Int(LittleEndian.read(UInt32.self, bytes, at: at + 12))
        let blocksOffset = LittleEndian.read(UInt64.self, bytes, at: at + 16)
        let dataLength = Int(LittleEndian.read(UInt32.self, bytes, at: at + 32))
        guard field < fieldCount, termBytesOffset + start + length <= termBytesEnd, df >= 1, df <= documentCount,
            blocks == (df + Format.blockSize - 1) / Format.blockSize, blocksOffset >= UInt64(postingsOffset),
            blocksOffset <= UInt64(postingsEnd)
        else { return nil }
        let dataOffset = Int(blocksOffset) + blocks * Format.blockEntrySize
        guard dataOffset + dataLength <= postingsEnd else { return nil }
        return TermInfo(
            field: field, documentFrequency: df, blockCount: blocks, blocksOffset: Int(blocksOffset), dataOffset: dataOffset,
            dataLength: dataLength, maxTF: LittleEndian.read(UInt32.self, bytes, at: at + 24),
            minLength: LittleEndian.read(UInt32.self, bytes, at: at + 28))
    }

    /// Compares entry `i` with (field, term): negative, zero, positive.
    private func compare(_ i: Int, field: Int, term: UnsafeRawBufferPointer, prefixOnly: Bool = false) -> Int {
        let f = termField(i)
        if f != field { return f < field ? -1 : 1 }
        let stored = termBytes(i)
        let n = min(stored.count, term.count)
        for j in 0..<n where stored[j] != term[j] { return stored[j] < term[j] ? -1 : 1 }
        if prefixOnly && stored.count >= term.count { return 0 }
        return stored.count == term.count ? 0 : (stored.count < term.count ? -1 : 1)
    }

    /// The first entry not below (field, term).
    private func lowerBound(field: Int, term: UnsafeRawBufferPointer) -> Int {
        var low = 0, high = termCount
        while low < high {
            let mid = (low + high) / 2
            if compare(mid, field: field, term: term) < 0 { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The entry of `term` in `field`, if the segment has it.
    ///
    /// - Complexity: O(log T) comparisons.
    func lookup(field: Int, term: String) -> (index: Int, info: TermInfo)? {
        var term = term
        return term.withUTF8 { utf8 -> (index: Int, info: TermInfo)? in
            let raw = UnsafeRawBufferPointer(utf8)
            let i = lowerBound(field: field, term: raw)
            guard i < termCount, compare(i, field: field, term: raw) == 0, let info = entry(i) else { return nil }
            return (i, info)
        }
    }

    /// The entries of `field` whose terms start with `prefix`, in term order.
    func entries(field: Int, prefix: String) -> Range<Int> {
        var prefix = prefix
        return prefix.withUTF8 { utf8 -> Range<Int> in
            let raw = UnsafeRawBufferPointer(utf8)
            let start = lowerBound(field: field, term: raw)
            var end = start
            while end < termCount, compare(end, field: field, term: raw, prefixOnly: true) == 0 { end += 1 }
            return start..<end
        }
    }
}
