import SearchCore

/// Compact coding of a graph's neighbour lists, for segment files.
///
/// Per node, in node order: the neighbour count as a LEB128 varint, then the
/// neighbours sorted ascending — the first as a zigzag varint of its
/// difference from the node's own number, each next one as a varint of its
/// gap from the previous minus one (lists hold no duplicates). Neighbours
/// close to their node, which a locality-preserving node order makes common,
/// cost one byte each instead of four. ``encodeCompressed(_:)`` then packs
/// the coding into ``LZ4Blocks``.
public enum GraphCoding {
    /// Codes neighbour lists (each list may be in any order; duplicates are
    /// dropped). `lists[i]` belongs to node `firstNode + i`.
    public static func encode(_ lists: [[UInt32]], firstNode: Int = 0) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(lists.count * 8)
        for (i, list) in lists.enumerated() { appendList(list, node: firstNode + i, to: &out) }
        return out
    }

    /// Codes one node's list: count, then the sorted neighbours as above.
    static func appendList<C: Collection<UInt32>>(_ list: C, node: Int, to out: inout [UInt8]) {
        let sorted = Array(Set(list)).sorted()
        putVarint(UInt64(sorted.count), &out)
        guard let first = sorted.first else { return }
        let delta = Int64(first) - Int64(node)
        putVarint(UInt64(bitPattern: (delta << 1) ^ (delta >> 63)), &out)
        for i in 1..<sorted.count { putVarint(UInt64(sorted[i] - sorted[i - 1] - 1), &out) }
    }

    /// Decodes one node's list into `out` (room for `maxDegree`), checking
    /// the count against `maxDegree` and every neighbour against
    /// `nodeCount`; returns the count.
    @inline(__always)
    static func readList(
        _ b: UnsafeRawBufferPointer, _ offset: inout Int, node: Int, nodeCount: Int, maxDegree: Int,
        into out: UnsafeMutablePointer<UInt32>
    ) throws(SearchError) -> Int {
        let count = try varint(b, &offset, node: node)
        guard count <= UInt64(maxDegree) else {
            throw SearchError(.corruptData, "graph node \(node) at offset \(offset): \(count) neighbours, more than \(maxDegree)")
        }
        guard count > 0 else { return 0 }
        let zigzag = try varint(b, &offset, node: node)
        let delta = Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1)
        var current = Int64(node) + delta
        for i in 0..<Int(count) {
            if i > 0 {
                let gap = try varint(b, &offset, node: node)
                guard gap < UInt64(nodeCount) else { throw outOfRange(node, offset, nodeCount) }
                current += Int64(gap) + 1
            }
            guard current >= 0, current < Int64(nodeCount) else { throw outOfRange(node, offset, nodeCount) }
            out[i] = UInt32(current)
        }
        return Int(count)
    }

    /// Codes neighbour lists and compresses them with LZ4.
    public static func encodeCompressed(_ lists: [[UInt32]]) -> [UInt8] { LZ4Blocks.encode(encode(lists)) }

    /// Decodes `nodeCount` lists, checking every count against `maxDegree`
    /// and every neighbour against `nodeCount`.
    ///
    /// - Throws: ``SearchError/Code/corruptData`` naming the node and offset.
    public static func decode(
        _ b: UnsafeRawBufferPointer, nodeCount: Int, maxDegree: Int
    ) throws(SearchError) -> [[UInt32]] {
        var lists: [[UInt32]] = []
        lists.reserveCapacity(nodeCount)
        let buffer = UnsafeMutablePointer<UInt32>.allocate(capacity: max(maxDegree, 1))
        defer { buffer.deallocate() }
        var offset = 0
        for node in 0..<nodeCount {
            let count = try readList(b, &offset, node: node, nodeCount: nodeCount, maxDegree: maxDegree, into: buffer)
            lists.append(Array(UnsafeBufferPointer(start: buffer, count: count)))
        }
        guard offset == b.count else {
            throw SearchError(.corruptData, "graph coding: \(b.count - offset) bytes follow the last of \(nodeCount) nodes")
        }
        return lists
    }

    /// Decompresses and decodes what ``encodeCompressed(_:)`` made.
    public static func decodeCompressed(
        _ b: UnsafeRawBufferPointer, nodeCount: Int, maxDegree: Int
    ) throws(SearchError) -> [[UInt32]] {
        // A list costs at most 1 + 10·(maxDegree) bytes, which bounds the decompressed size.
        let limit = nodeCount * (1 + 10 * maxDegree) + 16
        let raw = try LZ4Blocks.decode(b, limit: limit)
        var failure: SearchError?
        var result: [[UInt32]] = []
        raw.withUnsafeBytes { bytes in
            do throws(SearchError) {
                result = try decode(bytes, nodeCount: nodeCount, maxDegree: maxDegree)
            } catch { failure = error }
        }
        if let failure { throw failure }
        return result
    }

    private static func outOfRange(_ node: Int, _ offset: Int, _ count: Int) -> SearchError {
        SearchError(.corruptData, "graph node \(node) at offset \(offset): a neighbour outside the \(count) nodes")
    }

    static func putVarint(_ value: UInt64, _ out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    static func varint(_ b: UnsafeRawBufferPointer, _ offset: inout Int, node: Int) throws(SearchError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < b.count else {
                throw SearchError(.corruptData, "graph node \(node): the coding ends inside a number at offset \(offset)")
            }
            let byte = b[offset]
            offset += 1
            guard shift < 64 else {
                throw SearchError(.corruptData, "graph node \(node): a number at offset \(offset) runs past 64 bits")
            }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }
}
