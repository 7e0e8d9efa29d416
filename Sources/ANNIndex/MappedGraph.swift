import CSearchKernels
import SearchCore
import Synchronization
import Tensor

/// A segment's level-0 lists, decoded one block of rows at a time on first
/// use and kept until the segment is closed.
///
/// Measured on the segments benchmark (see the README): decoding every block
/// at open costs time in proportion to the graph, which would put opening a
/// large segment far above the few milliseconds of mapping it, while a block
/// decoded on first use costs a search tens of microseconds once. Kept blocks
/// take the memory the in-memory index's links would (`4 × (1 + M_max0)`
/// bytes a row), and only for the parts of the graph searches reach.
///
/// `@unchecked Sendable` is sound: the mapped bytes are immutable; a block's
/// pointer is published with a release compare-and-swap and read with an
/// acquire load, so a reader sees a block only after it is fully written; a
/// block is freed only in `deinit`, when no search can hold the graph.
final class LevelZeroCache: @unchecked Sendable {
    let source: UnsafeRawBufferPointer
    let blocks: [LZ4Blocks.Block]
    let checksums: UnsafeRawBufferPointer
    let rowCount: Int
    let blockShift: Int
    let blockMask: Int
    let listWords: Int
    let maxDegree: Int
    let path: String
    private let slots: UnsafeMutablePointer<Atomic<UInt>>
    /// Returned for a row whose block fails to decode, so a search ends cleanly; the failure is kept.
    private let empty: UnsafeMutablePointer<UInt32>
    private let failureStore = Mutex<SearchError?>(nil)
    private let decoded = Atomic<Int>(0)

    init(
        source: UnsafeRawBufferPointer, checksums: UnsafeRawBufferPointer, rowCount: Int, blockRows: Int, maxDegree: Int,
        path: String
    ) throws(SearchError) {
        blocks = try LZ4Blocks.blocks(source)
        let expected = (rowCount + blockRows - 1) / blockRows
        guard blocks.count == expected, checksums.count == 4 * blocks.count else {
            throw SearchError(
                .corruptData,
                "\(path): level 0 has \(blocks.count) blocks and \(checksums.count / 4) checksums; \(rowCount) rows in blocks of \(blockRows) need \(expected)")
        }
        self.source = source
        self.checksums = checksums
        self.rowCount = rowCount
        blockShift = blockRows.trailingZeroBitCount
        blockMask = blockRows - 1
        listWords = 1 + maxDegree
        self.maxDegree = maxDegree
        self.path = path
        slots = .allocate(capacity: max(blocks.count, 1))
        for i in 0..<blocks.count { (slots + i).initialize(to: Atomic(0)) }
        empty = .allocate(capacity: listWords)
        empty.initialize(repeating: 0, count: listWords)
    }

    deinit {
        for i in 0..<blocks.count {
            let bits = slots[i].load(ordering: .acquiring)
            if bits != 0 { UnsafeMutablePointer<UInt32>(bitPattern: bits)?.deallocate() }
        }
        slots.deinitialize(count: blocks.count)
        slots.deallocate()
        empty.deallocate()
    }

    /// The first error a block decode met, if any.
    var failure: SearchError? { failureStore.withLock { $0 } }

    /// Bytes of decoded lists held.
    var decodedBytes: Int { decoded.load(ordering: .relaxed) }

    /// The list of `row` (a count, then `maxDegree` slots), decoding its block first if needed.
    @inline(__always)
    func list(_ row: UInt32) -> UnsafePointer<UInt32> {
        let block = Int(row) >> blockShift
        var bits = slots[block].load(ordering: .acquiring)
        if bits == 0 {
            bits = decode(block)
            if bits == 0 { return UnsafePointer(empty) }
        }
        return UnsafePointer<UInt32>(bitPattern: bits)! + (Int(row) & blockMask) * listWords
    }

    /// The list of `row` if its block is decoded, for prefetching.
    @inline(__always)
    func decodedList(_ row: UInt32) -> UnsafePointer<UInt32>? {
        let bits = slots[Int(row) >> blockShift].load(ordering: .relaxed)
        return bits == 0 ? nil : UnsafePointer<UInt32>(bitPattern: bits)! + (Int(row) & blockMask) * listWords
    }

    /// Decodes every block now (what opening would cost without the cache).
    func decodeAll() throws(SearchError) {
        for block in 0..<blocks.count where slots[block].load(ordering: .acquiring) == 0 { _ = decode(block) }
        if let failure { throw failure }
    }

    /// Decodes and publishes block `index`; 0 when it is damaged.
    @inline(never)
    private func decode(_ index: Int) -> UInt {
        do throws(SearchError) {
            let out = try decodeBlock(index)
            let (won, current) = slots[index].compareExchange(
                expected: 0, desired: UInt(bitPattern: out), successOrdering: .acquiringAndReleasing,
                failureOrdering: .acquiring)
            if won {
                decoded.add((blockMask + 1) * listWords * 4, ordering: .relaxed)
                return UInt(bitPattern: out)
            }
            out.deallocate()  // another search decoded it first
            return current
        } catch {
            failureStore.withLock { if $0 == nil { $0 = error } }
            return 0
        }
    }

    private func decodeBlock(_ index: Int) throws(SearchError) -> UnsafeMutablePointer<UInt32> {
        let block = blocks[index]
        let stored = UnsafeRawBufferPointer(rebasing: source[block.offset..<(block.offset + block.stored)])
        let expected = LittleEndian.read(UInt32.self, checksums, at: 4 * index)
        guard CRC32C.checksum(stored) == expected else {
            throw SearchError(.corruptData, "\(path): level-0 block \(index) (stored at section offset \(block.offset)) fails its checksum")
        }
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: max(block.raw, 1), alignment: 16)
        defer { raw.deallocate() }
        try LZ4Blocks.decode(block, of: source, into: raw.baseAddress!)
        let rows = blockMask + 1
        let out = UnsafeMutablePointer<UInt32>.allocate(capacity: rows * listWords)
        out.initialize(repeating: 0, count: rows * listWords)
        let first = index << blockShift
        let bytes = UnsafeRawBufferPointer(rebasing: raw[0..<block.raw])
        var offset = 0
        do throws(SearchError) {
            for local in 0..<min(rows, rowCount - first) {
                let list = out + local * listWords
                list[0] = UInt32(
                    try GraphCoding.readList(
                        bytes, &offset, node: first + local, nodeCount: rowCount, maxDegree: maxDegree, into: list + 1))
            }
            guard offset == block.raw else {
                throw SearchError(.corruptData, "\(path): level-0 block \(index) has \(block.raw - offset) bytes after its last row")
            }
        } catch {
            out.deallocate()
            throw error
        }
        return out
    }
}

/// A segment's layers above 0, decoded whole when the segment opens (they
/// hold about 1/M of the rows): the rows that have such layers, ascending,
/// each with the offset of its lists in `words` (per layer `1 + M` words: a
/// count, then the slots).
///
/// `@unchecked Sendable` is sound: everything is written in `init` and only
/// read afterwards; `words` is freed in `deinit`.
final class UpperLayers: @unchecked Sendable {
    let rows: [UInt32]
    let offsets: [Int]
    let words: UnsafeMutablePointer<UInt32>
    let wordCount: Int
    let m: Int

    /// Decodes the coding ``HNSWCore`` writes (see `upperCoding`).
    init(decoding b: UnsafeRawBufferPointer, rowCount: Int, m: Int, path: String) throws(SearchError) {
        let bytes = try LZ4Blocks.decode(b, limit: 64 + rowCount * 16 * (11 + 5 * m))
        var rows: [UInt32] = []
        var offsets: [Int] = []
        var words: [UInt32] = []
        let list = UnsafeMutablePointer<UInt32>.allocate(capacity: m)
        defer { list.deallocate() }
        try withRawBytes(bytes) { (b) throws(SearchError) in
            var offset = 0
            let count = try GraphCoding.varint(b, &offset, node: -1)
            guard count <= UInt64(rowCount) else {
                throw SearchError(.corruptData, "\(path): \(count) rows with upper layers among \(rowCount)")
            }
            var row = 0
            for i in 0..<Int(count) {
                let gap = try GraphCoding.varint(b, &offset, node: row)
                let level = try GraphCoding.varint(b, &offset, node: row)
                guard gap < UInt64(rowCount), row + Int(gap) < rowCount, i == 0 || gap > 0, (1...15).contains(level) else {
                    throw SearchError(.corruptData, "\(path): upper layers: row \(row) + \(gap) at layer \(level) is out of order or range")
                }
                row += Int(gap)
                rows.append(UInt32(row))
                offsets.append(words.count)
                for _ in 0..<Int(level) {
                    let n = try GraphCoding.readList(b, &offset, node: row, nodeCount: rowCount, maxDegree: m, into: list)
                    words.append(UInt32(n))
                    words.append(contentsOf: UnsafeBufferPointer(start: list, count: n))
                    words.append(contentsOf: repeatElement(0, count: m - n))
                }
            }
            guard offset == b.count else {
                throw SearchError(.corruptData, "\(path): upper layers: \(b.count - offset) bytes after the last row")
            }
        }
        self.rows = rows
        self.offsets = offsets
        self.m = m
        wordCount = words.count
        self.words = .allocate(capacity: max(words.count, 1))
        self.words.initialize(from: words, count: words.count)
    }

    deinit { words.deallocate() }


    private func index(_ row: UInt32) -> Int? {
        var low = 0
        var high = rows.count
        while low < high {
            let mid = (low + high) >> 1
            if rows[mid] < row { low = mid + 1 } else { high = mid }
        }
        return low < rows.count && rows[low] == row ? low : nil
    }

    private func end(_ i: Int) -> Int { i + 1 < rows.count ? offsets[i + 1] : wordCount }

    /// The slots of `row` on `layer` ≥ 1 and their count; none when it has no such layer.
    @inline(__always)
    func list(_ row: UInt32, layer: Int) -> (UnsafePointer<UInt32>, Int) {
        guard let i = index(row) else { return (UnsafePointer(words), 0) }
        let start = offsets[i] + (layer - 1) * (1 + m)
        guard start + 1 + m <= end(i) else { return (UnsafePointer(words), 0) }
        return (UnsafePointer(words + start + 1), Int(words[start]))
    }
}

/// A mapped segment as a ``GraphLayout``: codes in place in the mapping,
/// level-0 lists from the block cache, upper lists from ``UpperLayers``.
struct SegmentGraphLayout<Codec: VectorCodec>: GraphLayout {
    let codec: Codec
    let prefetchBytes: Int
    let codes: UnsafeRawPointer
    let codeStride: Int
    let levelZero: LevelZeroCache
    let upper: UpperLayers

    @inline(__always)
    func code(_ slot: UInt32) -> UnsafeRawPointer { codes + Int(slot) * codeStride }

    @inline(__always)
    func neighbors(of slot: UInt32, layer: Int, scratch: SearchScratch) -> (UnsafePointer<UInt32>, Int) {
        if layer == 0 {
            let list = levelZero.list(slot)
            return (list + 1, Int(list.pointee))
        }
        return upper.list(slot, layer: layer)
    }

    @inline(__always)
    func prefetchNeighbors(of slot: UInt32, layer: Int) {
        if layer == 0, let list = levelZero.decodedList(slot) { mms_prefetch(list, 64) }
    }
}

/// Rows live in the manifest's live set and allowed by a filter.
struct SegmentRows<Filter: SearchFilter>: NodeAcceptor {
    let live: UnsafePointer<UInt8>
    let ids: UnsafeRawPointer
    let filter: Filter
    let acceptsAll: Bool

    @inline(__always) func accepts(_ slot: UInt32) -> Bool {
        let row = Int(slot)
        return live[row >> 3] & (1 << UInt8(row & 7)) != 0
            && filter.allows(VectorID(UInt64(littleEndian: ids.load(fromByteOffset: 8 * row, as: UInt64.self))))
    }
}
