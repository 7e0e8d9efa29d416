import Foundation
import SearchCore
import StoragePrimitives

/// Appends little-endian values (through the package's `LittleEndian`) to a
/// byte array: the writer behind the collection's log records and item snapshots.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func append<T: FixedWidthInteger>(_ value: T) { LittleEndian.append(value, to: &bytes) }

    mutating func append(_ value: Double) { append(value.bitPattern) }

    /// A u32 byte count, then the UTF-8 bytes.
    mutating func append(_ string: String) {
        let utf8 = Array(string.utf8)
        append(UInt32(utf8.count))
        bytes += utf8
    }
}

/// Reads little-endian values from bytes it does not trust: every read is
/// bounds-checked and a short read is a typed error naming `source`.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var offset: Int
    let source: String

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0, source: String) {
        self.bytes = bytes
        self.offset = offset
        self.source = source
    }

    var isAtEnd: Bool { offset == bytes.count }

    mutating func read<T: FixedWidthInteger>(_: T.Type) throws(SearchError) -> T {
        let size = MemoryLayout<T>.size
        guard offset >= 0, bytes.count - offset >= size else {
            throw SearchError(.corruptData, "\(source) at offset \(offset): \(size) bytes expected, \(max(0, bytes.count - offset)) left")
        }
        let value = LittleEndian.read(T.self, bytes, at: offset)
        offset += size
        return value
    }

    mutating func readDouble() throws(SearchError) -> Double { Double(bitPattern: try read(UInt64.self)) }

    mutating func readString() throws(SearchError) -> String {
        let length = Int(try read(UInt32.self))
        guard bytes.count - offset >= length else {
            throw SearchError(.corruptData, "\(source) at offset \(offset): a string of \(length) bytes runs past the end")
        }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
        guard let string = String(validating: slice.bindMemory(to: UInt8.self), as: UTF8.self) else {
            throw SearchError(.corruptData, "\(source) at offset \(offset): a string is not valid UTF-8")
        }
        offset += length
        return string
    }
}

/// An item's stored fields, byte by byte (little-endian):
///
/// | size | field |
/// | --- | --- |
/// | 1 | presence bits: 1 caption, 2 picture path, 4 category, 8 a picture given as bytes or pixels |
/// | 4 + n | caption (u32 length, UTF-8), when present |
/// | 4 + n | picture path, when present |
/// | 4 + n | category, when present |
/// | 4 | tag count t, then t strings |
/// | 4 | user field count u, then u (key, value) string pairs, keys ascending |
///
/// A picture given as bytes or pixels is embedded but not stored: the item
/// comes back with ``CatalogItem/image`` nil (bit 8 records that it had one).
enum ItemCoding {
    static func encode(_ item: CatalogItem, into w: inout ByteWriter) {
        var path: String?
        var unstoredPicture = false
        switch item.image {
        case .file(let p)?: path = p
        case .encoded?, .pixels?: unstoredPicture = true
        case nil: break
        }
        var bits: UInt8 = 0
        if item.caption != nil { bits |= 1 }
        if path != nil { bits |= 2 }
        if item.category != nil { bits |= 4 }
        if unstoredPicture { bits |= 8 }
        w.append(bits)
        if let caption = item.caption { w.append(caption) }
        if let path { w.append(path) }
        if let category = item.category { w.append(category) }
        w.append(UInt32(item.tags.count))
        for tag in item.tags { w.append(tag) }
        w.append(UInt32(item.metadata.count))
        for key in item.metadata.keys.sorted() {
            w.append(key)
            w.append(item.metadata[key]!)
        }
    }

    static func decode(id: VectorID, from r: inout ByteReader) throws(SearchError) -> CatalogItem {
        let bits = try r.read(UInt8.self)
        guard bits & ~0x0F == 0 else {
            throw SearchError(.corruptData, "\(r.source) at offset \(r.offset - 1): item \(id) has unknown presence bits \(bits)")
        }
        let caption = bits & 1 != 0 ? try r.readString() : nil
        let path = bits & 2 != 0 ? try r.readString() : nil
        let category = bits & 4 != 0 ? try r.readString() : nil
        let tagCount = Int(try r.read(UInt32.self))
        try checkCount(tagCount, minimumBytes: 4, r)
        var tags: [String] = []
        tags.reserveCapacity(tagCount)
        for _ in 0..<tagCount { tags.append(try r.readString()) }
        let fieldCount = Int(try r.read(UInt32.self))
        try checkCount(fieldCount, minimumBytes: 8, r)
        var fields: [String: String] = [:]
        fields.reserveCapacity(fieldCount)
        for _ in 0..<fieldCount {
            let key = try r.readString()
            fields[key] = try r.readString()
        }
        return CatalogItem(
            id: id, caption: caption, image: path.map(ImageSource.file), category: category, tags: tags, metadata: fields)
    }

    /// Refuses a count that could not fit in the bytes left (so a damaged
    /// count cannot ask for a huge allocation).
    private static func checkCount(_ count: Int, minimumBytes: Int, _ r: ByteReader) throws(SearchError) {
        guard count <= (r.bytes.count - r.offset) / minimumBytes else {
            throw SearchError(.corruptData, "\(r.source) at offset \(r.offset): a count of \(count) entries runs past the end")
        }
    }
}
