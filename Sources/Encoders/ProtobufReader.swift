import SearchCore

/// Reads protobuf wire-format fields from a byte slice; every read is bounds-checked.
struct ProtobufReader {
    var bytes: ArraySlice<UInt8>
    let what: String

    init(bytes: ArraySlice<UInt8>, what: String) {
        self.bytes = bytes
        self.what = what
    }

    private func truncated(_ detail: String) -> SearchError {
        SearchError(.corruptData, "SentencePiece model: \(what) is truncated or damaged (\(detail))")
    }

    /// The next field number and wire type, or nil at the end.
    mutating func nextKey() throws(SearchError) -> (Int, Int)? {
        guard !bytes.isEmpty else { return nil }
        let key = try varint()
        let field = key >> 3, wire = Int(key & 7)
        guard field > 0, field < 1 << 29 else { throw truncated("field number \(field)") }
        return (Int(field), wire)
    }

    /// A base-128 varint of at most 10 bytes.
    mutating func varint() throws(SearchError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard let byte = bytes.popFirst() else { throw truncated("a varint runs past the end") }
            guard shift < 64 else { throw truncated("a varint is longer than 10 bytes") }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    /// An `int32` field: a varint whose low 32 bits are the two's-complement value.
    mutating func int32() throws(SearchError) -> Int32 {
        Int32(truncatingIfNeeded: try varint())
    }

    /// A little-endian fixed32.
    mutating func fixed32() throws(SearchError) -> UInt32 {
        guard bytes.count >= 4 else { throw truncated("a fixed32 runs past the end") }
        let s = bytes.startIndex
        let value = UInt32(bytes[s]) | UInt32(bytes[s + 1]) << 8 | UInt32(bytes[s + 2]) << 16 | UInt32(bytes[s + 3]) << 24
        bytes.removeFirst(4)
        return value
    }

    /// A length-delimited field's bytes.
    mutating func lengthDelimited() throws(SearchError) -> ArraySlice<UInt8> {
        let length = try varint()
        guard length <= UInt64(bytes.count) else {
            throw truncated("a field of \(length) bytes with \(bytes.count) left")
        }
        let field = bytes.prefix(Int(length))
        bytes.removeFirst(Int(length))
        return field
    }

    /// Skips a field of wire type `wire`.
    mutating func skip(_ wire: Int) throws(SearchError) {
        switch wire {
        case 0: _ = try varint()
        case 1:
            guard bytes.count >= 8 else { throw truncated("a fixed64 runs past the end") }
            bytes.removeFirst(8)
        case 2: _ = try lengthDelimited()
        case 5: _ = try fixed32()
        default: throw truncated("wire type \(wire)")
        }
    }
}
