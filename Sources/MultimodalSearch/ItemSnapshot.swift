import SearchCore
import StoragePrimitives
import Tensor

/// One stored item: its fields and which vector fields hold a vector for it
/// (bit i for the schema's field i).
struct StoredItem: Sendable, Hashable {
    var item: CatalogItem
    var vectorFields: UInt8
}

/// Every item of a collection at a checkpoint, in one checksummed file that
/// is read whole and decoded item by item when asked for, so opening costs a
/// read and a checksum, not a parse of every item.
///
/// **Format, version 1** (every integer little-endian):
///
/// | offset | size | field |
/// | --- | --- | --- |
/// | 0 | 8 | magic `MMSITEMS` |
/// | 8 | 4 | format version, 1 |
/// | 12 | 4 | reserved, 0 |
/// | 16 | 8 | item count n |
/// | 24 | 8 | records length r |
/// | 32 | 16·n | index, ascending id: id u64, record offset u64 (from the records' start) |
/// | 32 + 16·n | r | records: vector-field bits u8, then the item (``ItemCoding``) |
/// | end − 8 | 4 | CRC-32C of every byte before it |
/// | end − 4 | 4 | footer magic `MMSI` |
///
/// The reader checks the footer magic, the checksum, the header, that the
/// lengths account for the file exactly and that the index is ascending with
/// offsets inside the records before it trusts any of it.
struct ItemSnapshot: Sendable {
    static let magic: [UInt8] = Array("MMSITEMS".utf8)
    static let footerMagic: [UInt8] = Array("MMSI".utf8)
    static let version: UInt32 = 1
    static let headerSize = 32

    /// The file's bytes (immutable once read).
    let bytes: [UInt8]
    /// Items in the file.
    let count: Int
    let path: String
    private var recordsStart: Int { Self.headerSize + 16 * count }

    /// An empty snapshot (a new collection).
    init(emptyAt path: String) {
        bytes = []
        count = 0
        self.path = path
    }

    /// Checks and keeps a snapshot file's bytes.
    init(bytes: [UInt8], path: String) throws(SearchError) {
        self.path = path
        func corrupt(_ offset: Int, _ what: String) -> SearchError {
            SearchError(.corruptData, "\(path) at offset \(offset): \(what); the item snapshot is damaged")
        }
        guard bytes.count >= Self.headerSize + 8, bytes.suffix(4).elementsEqual(Self.footerMagic) else {
            throw corrupt(max(0, bytes.count - 4), "no MMSI footer (a truncated file?)")
        }
        let stored = LittleEndian.read(UInt32.self, bytes, at: bytes.count - 8)
        let actual = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<(bytes.count - 8)])) }
        guard stored == actual else { throw corrupt(bytes.count - 8, "checksum mismatch") }
        guard bytes.prefix(8).elementsEqual(Self.magic) else { throw corrupt(0, "not an item snapshot (no MMSITEMS magic)") }
        let (version, count, recordsLength) = try withRawBytes(bytes) { raw throws(SearchError) in
            var r = ByteReader(raw, offset: 8, source: path)
            let version = try r.read(UInt32.self)
            _ = try r.read(UInt32.self)
            return (version, try r.read(UInt64.self), try r.read(UInt64.self))
        }
        guard version == Self.version else {
            throw SearchError(.unsupportedFormat, "\(path) is item snapshot version \(version); this build reads version \(Self.version)")
        }
        let body = bytes.count - Self.headerSize - 8
        guard count <= UInt64(body / 16), recordsLength == UInt64(body) - 16 * count else {
            throw corrupt(16, "\(count) items and \(recordsLength) record bytes do not account for \(bytes.count) bytes")
        }
        self.bytes = bytes
        self.count = Int(count)
        let n = self.count
        let bad: Int? = bytes.withUnsafeBytes { raw in
            var previous: UInt64?
            for i in 0..<n {
                let (id, offset) = Self.entry(i, raw)
                guard previous.map({ $0 < id }) ?? true, offset < recordsLength else { return i }
                previous = id
            }
            return nil
        }
        if let bad {
            let (id, offset) = entry(bad)
            throw corrupt(Self.headerSize + 16 * bad, "index entry \(bad) (id \(id), offset \(offset)) is out of order or out of range")
        }
    }

    /// Writes `items` (any order) as snapshot bytes.
    static func encode(_ items: [VectorID: StoredItem]) -> [UInt8] {
        let ids = items.keys.sorted()
        var records = ByteWriter()
        var index = ByteWriter()
        for id in ids {
            index.append(id.rawValue)
            index.append(UInt64(records.bytes.count))
            let stored = items[id]!
            records.append(stored.vectorFields)
            ItemCoding.encode(stored.item, into: &records)
        }
        var out = ByteWriter()
        out.bytes = magic
        out.append(version)
        out.append(UInt32(0))
        out.append(UInt64(ids.count))
        out.append(UInt64(records.bytes.count))
        out.bytes += index.bytes
        out.bytes += records.bytes
        out.append(out.bytes.withUnsafeBytes { CRC32C.checksum($0) })
        out.bytes += footerMagic
        return out.bytes
    }

    private func entry(_ i: Int) -> (id: UInt64, offset: UInt64) {
        bytes.withUnsafeBytes { Self.entry(i, $0) }
    }

    /// Index entry `i`: two little-endian u64 (loaded in place; this runs once per item at open).
    @inline(__always)
    private static func entry(_ i: Int, _ raw: UnsafeRawBufferPointer) -> (id: UInt64, offset: UInt64) {
        let at = headerSize + 16 * i
        return (
            UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)),
            UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self))
        )
    }

    /// The position of `id` in the index, if present.
    /// - Complexity: O(log n).
    func position(of id: VectorID) -> Int? {
        bytes.withUnsafeBytes { raw in
            var low = 0, high = count
            while low < high {
                let mid = (low + high) / 2
                let found = Self.entry(mid, raw).id
                if found == id.rawValue { return mid }
                if found < id.rawValue { low = mid + 1 } else { high = mid }
            }
            return nil
        }
    }

    /// The item at index position `i`.
    func item(at i: Int) throws(SearchError) -> StoredItem {
        let (id, offset) = entry(i)
        return try withRawBytes(bytes) { raw throws(SearchError) in
            let records = UnsafeRawBufferPointer(rebasing: raw[recordsStart..<(raw.count - 8)])
            var r = ByteReader(records, offset: Int(offset), source: path)
            let fields = try r.read(UInt8.self)
            return StoredItem(item: try ItemCoding.decode(id: VectorID(id), from: &r), vectorFields: fields)
        }
    }

    /// The identifier at index position `i`.
    func id(at i: Int) -> VectorID { VectorID(entry(i).id) }
}
