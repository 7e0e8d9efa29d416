/// A trie over byte strings with an `Int32` value per key: SentencePiece's
/// pieces and user-defined symbols. Edges live in one hash table keyed by
/// (node, byte), so a lookup costs one probe per byte.
struct ByteTrie: Sendable {
    private var edges: [UInt64: Int32] = [:]
    /// The root's children by byte (-1 for none): every search starts there.
    private var root = [Int32](repeating: -1, count: 256)
    private var values: [Int32] = [-1]

    init() {}

    /// Adds `key` with `value`; a key added twice keeps its first value
    /// unless `replacing` is set.
    mutating func insert(_ key: some Sequence<UInt8>, value: Int32, replacing: Bool = false) {
        var node: Int32 = 0
        for byte in key {
            if let next = child(node, byte) {
                node = next
            } else {
                let next = Int32(values.count)
                values.append(-1)
                if node == 0 { root[Int(byte)] = next } else { edges[UInt64(UInt32(node)) << 8 | UInt64(byte)] = next }
                node = next
            }
        }
        if replacing || values[Int(node)] < 0 { values[Int(node)] = value }
    }

    var isEmpty: Bool { values.count == 1 }

    /// The node reached from `node` by `byte`, or nil.
    @inline(__always)
    func child(_ node: Int32, _ byte: UInt8) -> Int32? {
        if node == 0 {
            let next = root[Int(byte)]
            return next >= 0 ? next : nil
        }
        return edges[UInt64(UInt32(node)) << 8 | UInt64(byte)]
    }

    /// The value stored at `node` (-1 for none).
    @inline(__always)
    func value(_ node: Int32) -> Int32 { values[Int(node)] }

    /// The value of `key`, or nil.
    func lookup(_ key: some Sequence<UInt8>) -> Int32? {
        var node: Int32 = 0
        for byte in key {
            guard let next = child(node, byte) else { return nil }
            node = next
        }
        let v = value(node)
        return v >= 0 ? v : nil
    }

    /// The longest key prefixing `input`, its length and value.
    func longestPrefix(_ input: ArraySlice<UInt8>) -> (length: Int, value: Int32)? {
        if isEmpty { return nil }
        var node: Int32 = 0
        var best: (Int, Int32)?
        var length = 0
        for byte in input {
            guard let next = child(node, byte) else { break }
            node = next
            length += 1
            let v = value(node)
            if v >= 0 { best = (length, v) }
        }
        return best
    }
}
