import CSearchKernels
import SearchCore
import StoragePrimitives
import Synchronization
import Tensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A segment's level-0 lists, decoded one block of rows at a time on first
/// use and kept until the segment is closed.
///
/// Measured on the segments benchmark at 1,000,000 rows (see the README):
/// decoding every block took 130–360 ms, against under a millisecond for
/// everything else an open does, while a block decoded on first use costs
/// the search that reaches it tens of microseconds, once. Decoded blocks go
/// to fixed places in one reserved region of address space, asked for
/// transparent huge pages on Linux (fewer TLB misses for lists that, unlike
/// the in-memory graph's, do not share a page with their node's code), which
/// holds at most the graph's decoded size (`4 × (1 + M_max0)` bytes a row,
/// what the in-memory index's links take) and only commits memory for the
/// parts searches reach.
///
/// `@unchecked Sendable` is sound: the mapped bytes are immutable; a block
/// is written only by the thread holding its stripe lock, while its state is
/// 0, and published by a release store of state 1, which readers check with
/// an acquire load before they read it; after that nothing writes it; the
/// region is unmapped only in `deinit`, when no search can hold the cache.
final class LevelZeroCache: @unchecked Sendable {
    let source: UnsafeRawBufferPointer
    let index: UnsafeRawBufferPointer
    let blockCount: Int
    let rowCount: Int
    let blockShift: Int
    let blockMask: Int
    let listWords: Int
    let maxDegree: Int
    let path: String
    /// Bytes of one decoded block.
    let blockBytes: Int
    private let region: UnsafeMutableRawPointer
    private let regionBytes: Int
    /// Per block: 0 not decoded, 1 decoded.
    private let states: UnsafeMutablePointer<Atomic<UInt8>>
    private let locks = StripedLocks(stripes: 64)
    /// Returned for a row whose block fails to decode, so a search ends cleanly; the failure is kept.
    private let empty: UnsafeMutablePointer<UInt32>
    private let failureStore = Mutex<SearchError?>(nil)
    private let decoded = Atomic<Int>(0)

    /// Size of one entry of the block index.
    static let indexEntryBytes = 24

    init(
        source: UnsafeRawBufferPointer, index: UnsafeRawBufferPointer, rowCount: Int, blockRows: Int, maxDegree: Int,
        path: String
    ) throws(SearchError) {
        blockCount = (rowCount + blockRows - 1) / blockRows
        let stated = source.count >= 4 ? Int(LittleEndian.read(UInt32.self, source, at: 0)) : -1
        guard stated == blockCount, index.count == Self.indexEntryBytes * blockCount else {
            throw SearchError(
                .corruptData,
                "\(path): level 0 has \(stated) blocks and an index of \(index.count / Self.indexEntryBytes); \(rowCount) rows in blocks of \(blockRows) need \(blockCount)")
        }
        self.source = source
        self.index = index
        self.rowCount = rowCount
        blockShift = blockRows.trailingZeroBitCount
        blockMask = blockRows - 1
        listWords = 1 + maxDegree
        self.maxDegree = maxDegree
        self.path = path
        blockBytes = blockRows * listWords * 4
        regionBytes = max(blockCount * blockBytes, 1)
        #if os(Linux)
        let flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE
        #else
        let flags = MAP_PRIVATE | MAP_ANON
        #endif
        let mapped = mmap(nil, regionBytes, PROT_READ | PROT_WRITE, flags, -1, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw SearchError(.io, "\(path): cannot reserve \(regionBytes) bytes for the decoded graph (errno \(errno))")
        }
        region = mapped
        #if os(Linux)
        _ = madvise(region, regionBytes, MADV_HUGEPAGE)  // a hint; without it the pages are 4 KiB
        #endif
        states = .allocate(capacity: max(blockCount, 1))
        for i in 0..<blockCount { (states + i).initialize(to: Atomic(0)) }
        empty = .allocate(capacity: listWords)
        empty.initialize(repeating: 0, count: listWords)
    }

    deinit {
        munmap(region, regionBytes)
        states.deinitialize(count: blockCount)
        states.deallocate()
        empty.deallocate()
    }

    /// The first error a block decode met, if any.
    var failure: SearchError? { failureStore.withLock { $0 } }

    /// Bytes of decoded lists held.
    var decodedBytes: Int { decoded.load(ordering: .relaxed) }

    @inline(__always)
    private func lists(_ block: Int) -> UnsafePointer<UInt32> {
        UnsafePointer((region + block * blockBytes).assumingMemoryBound(to: UInt32.self))
    }

    /// The list of `row` (a count, then `maxDegree` slots), decoding its block first if needed.
    @inline(__always)
    func list(_ row: UInt32) -> UnsafePointer<UInt32> {
        let block = Int(row) >> blockShift
        if states[block].load(ordering: .acquiring) == 0 && !decode(block) { return UnsafePointer(empty) }
        return lists(block) + (Int(row) & blockMask) * listWords
    }

    /// The list of `row` if its block is decoded, for prefetching.
    @inline(__always)
    func decodedList(_ row: UInt32) -> UnsafePointer<UInt32>? {
        let block = Int(row) >> blockShift
        return states[block].load(ordering: .relaxed) == 0 ? nil : lists(block) + (Int(row) & blockMask) * listWords
    }

    /// Decodes every block now (what opening would cost without the cache).
    func decodeAll() throws(SearchError) {
        for block in 0..<blockCount where states[block].load(ordering: .acquiring) == 0 { _ = decode(block) }
        if let failure { throw failure }
    }

    /// Decodes and publishes block `block`; false when it is damaged.
    @inline(never)
    private func decode(_ block: Int) -> Bool {
        locks.lock(UInt32(truncatingIfNeeded: block))
        defer { locks.unlock(UInt32(truncatingIfNeeded: block)) }
        if states[block].load(ordering: .acquiring) == 1 { return true }  // another search decoded it
        do throws(SearchError) {
            try decodeBlock(block, into: (region + block * blockBytes).assumingMemoryBound(to: UInt32.self))
            states[block].store(1, ordering: .releasing)
            decoded.add(blockBytes, ordering: .relaxed)
            return true
        } catch {
            failureStore.withLock { if $0 == nil { $0 = error } }
            return false
        }
    }

    private func decodeBlock(_ number: Int, into out: UnsafeMutablePointer<UInt32>) throws(SearchError) {
        let entry = number * Self.indexEntryBytes
        let offset = Int(LittleEndian.read(UInt64.self, index, at: entry))
        let stored = Int(LittleEndian.read(UInt32.self, index, at: entry + 8))
        let raw = Int(LittleEndian.read(UInt32.self, index, at: entry + 12))
        let checksum = LittleEndian.read(UInt32.self, index, at: entry + 16)
        guard offset >= 12, offset <= source.count, stored <= source.count - offset, stored <= raw,
            raw <= LZ4Blocks.maximumBlockSize,
            Int(LittleEndian.read(UInt32.self, source, at: offset - 8)) == raw,
            Int(LittleEndian.read(UInt32.self, source, at: offset - 4)) == stored
        else {
            throw SearchError(.corruptData, "\(path): level-0 block \(number) is indexed at \(offset) (\(stored) of \(raw) bytes), which does not match the section")
        }
        let bytes = UnsafeRawBufferPointer(rebasing: source[offset..<(offset + stored)])
        guard CRC32C.checksum(bytes) == checksum else {
            throw SearchError(.corruptData, "\(path): level-0 block \(number) (at section offset \(offset)) fails its checksum")
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(raw, 1), alignment: 16)
        defer { buffer.deallocate() }
        try LZ4Blocks.decode(LZ4Blocks.Block(offset: offset, stored: stored, raw: raw), of: source, into: buffer.baseAddress!)
        let first = number << blockShift
        let coded = UnsafeRawBufferPointer(rebasing: buffer[0..<raw])
        var position = 0
        for local in 0..<min(blockMask + 1, rowCount - first) {
            let list = out + local * listWords
            list[0] = UInt32(
                try GraphCoding.readList(coded, &position, node: first + local, nodeCount: rowCount, maxDegree: maxDegree, into: list + 1))
        }
        guard position == raw else {
            throw SearchError(.corruptData, "\(path): level-0 block \(number) has \(raw - position) bytes after its last row")
        }
    }
}
