import CSearchKernels
import SearchCore
import Synchronization
import Tensor

/// A segment's graph for one codec.
///
/// `@unchecked Sendable` is sound: the pointers address the immutable
/// mapping, which `reader` keeps alive as long as this object; the level-0
/// cache synchronises itself; searches take their scratch from a pool.
final class MappedGraph<Codec: VectorCodec>: @unchecked Sendable {

    let reader: SegmentReader
    let metadata: SegmentGraphMetadata
    let codec: Codec
    let kernels: Kernels
    let count: Int
    let dimension: Int
    let metric: Metric
    let codes: UnsafeRawPointer
    let originals: UnsafePointer<Float>?
    let ids: UnsafeRawPointer
    let mapIDs: UnsafeRawPointer
    let mapRows: UnsafeRawPointer
    let mapCount: Int
    let levelZero: LevelZeroCache
    let upperSection: UnsafeRawBufferPointer
    /// The upper levels, decoded by the first search (about 5 ms at a million rows).
    private let upperStore = Mutex<UpperLayers?>(nil)
    let scratchPool: ScratchPool
    let prefetchBytes: Int

    init(_ reader: SegmentReader, codec: Codec, kernels: Kernels) throws(SearchError) {
        let header = reader.header
        let path = reader.path
        func section(_ kind: SegmentSectionKind, bytes expected: Int?) throws(SearchError) -> UnsafeRawBufferPointer {
            guard reader.has(kind) else { throw SearchError(.corruptData, "\(path) has no \(kind) section; it cannot be searched as a graph") }
            let b = try reader.section(kind)
            if let expected, b.count != expected {
                throw SearchError(.corruptData, "\(path): the \(kind) section holds \(b.count) bytes; \(header.count) rows need \(expected)")
            }
            return b
        }
        // Small and read whole at open: checked here whatever the verification asked for
        // (level-0 blocks are checked one by one as they are decoded, the upper levels when the
        // first search decodes them).
        for kind in [SegmentSectionKind.metadata, .graphLevel0Index] { try reader.verifySection(kind) }
        let metadata = try SegmentGraphMetadata.decode(try section(.metadata, bytes: nil), header: header, path: path)
        guard metadata.codeBytes == codec.codeBytes else {
            throw SearchError(.corruptData, "\(path): codes of \(metadata.codeBytes) bytes; \(header.storage) × \(header.dimension) needs \(codec.codeBytes)")
        }
        self.reader = reader
        self.metadata = metadata
        self.codec = codec
        self.kernels = kernels
        count = header.count
        dimension = header.dimension
        metric = header.metric
        codes = UnsafeRawPointer(try section(.vectors, bytes: count * metadata.codeStride).baseAddress ?? UnsafeRawPointer(bitPattern: 64)!)
        ids = try section(.ids, bytes: count * 8).baseAddress ?? UnsafeRawPointer(bitPattern: 64)!
        let map = try section(.idMap, bytes: nil)
        guard map.count % 12 == 0, map.count / 12 <= count else {
            throw SearchError(.corruptData, "\(path): an id map of \(map.count) bytes does not fit \(count) rows")
        }
        mapCount = map.count / 12
        mapIDs = map.baseAddress ?? UnsafeRawPointer(bitPattern: 64)!
        mapRows = mapIDs + 8 * mapCount
        if header.flags.contains(.hasOriginals) {
            originals = try section(.originals, bytes: count * dimension * 4).baseAddress?.assumingMemoryBound(to: Float.self)
        } else {
            originals = nil
        }
        levelZero = try LevelZeroCache(
            source: try section(.graphLevel0, bytes: nil), index: try section(.graphLevel0Index, bytes: nil),
            rowCount: count, blockRows: metadata.blockRows, maxDegree: metadata.m0, path: path)
        upperSection = try section(.graphUpper, bytes: nil)
        prefetchBytes = min(codec.codeBytes, 640)
        let (d, queryBytes, degree, rows, ef) = (header.dimension, codec.queryScratchBytes, metadata.m0, count, metadata.efConstruction)
        scratchPool = ScratchPool {
            SearchScratch(dimension: d, queryBytes: queryBytes, maxDegree: degree, capacity: rows, efConstruction: ef)
        }
        // Every search reads the upper levels and scattered level-0 blocks: start reading them
        // now. Codes, originals and ids are read a row at a time at random, where the
        // device's read-ahead window around each fault would mostly read rows nobody asked for.
        reader.prefetch(.graphUpper)
        reader.prefetch(.graphLevel0)
        for kind in [SegmentSectionKind.vectors, .originals, .ids] { reader.adviseRandomAccess(kind) }
    }

    @inline(__always)
    func id(_ row: Int) -> VectorID { VectorID(UInt64(littleEndian: ids.load(fromByteOffset: 8 * row, as: UInt64.self))) }

    /// The row holding `id` when the segment was written, if any. The id map
    /// is trusted: a ``PersistentIndex`` checks it when it opens the segment.
    func row(of id: VectorID) -> Int? {
        var low = 0
        var high = mapCount
        while low < high {
            let mid = (low + high) >> 1
            if UInt64(littleEndian: mapIDs.load(fromByteOffset: 8 * mid, as: UInt64.self)) < id.rawValue { low = mid + 1 } else { high = mid }
        }
        guard low < mapCount, UInt64(littleEndian: mapIDs.load(fromByteOffset: 8 * low, as: UInt64.self)) == id.rawValue else { return nil }
        let row = Int(UInt32(littleEndian: mapRows.load(fromByteOffset: 4 * low, as: UInt32.self)))
        return row < count ? row : nil
    }

    func vector(_ row: Int, into out: UnsafeMutablePointer<Float>) {
        if let originals {
            out.update(from: originals + row * dimension, count: dimension)
        } else {
            codec.decode(codes + row * metadata.codeStride, into: out)
        }
    }

    /// Below this estimated fraction of allowed live rows, a filtered search
    /// scans them exactly: the in-memory graph's default.
    var exactScanBelowSelectivity: Double { HNSWIndex.Configuration().exactScanBelowSelectivity }

    /// The upper levels, checked and decoded on first use.
    func upperLayers() throws(SearchError) -> UpperLayers {
        if let ready = upperStore.withLock({ $0 }) { return ready }
        try reader.verifySection(.graphUpper)
        let decoded = try UpperLayers(decoding: upperSection, rowCount: count, m: metadata.m, path: reader.path)
        return upperStore.withLock { stored in
            if let earlier = stored { return earlier }
            stored = decoded
            return decoded
        }
    }

    /// The `k` nearest rows live in `live` and allowed by `filter` (see
    /// ``KNNGraph``); throws when a graph block it reached is damaged.
    func search<Filter: SearchFilter>(
        _ query: UnsafePointer<Float>, k: Int, ef: Int, filter: Filter, live: LiveSet, liveCount: Int
    ) throws(SearchError) -> [SearchHit] {
        guard liveCount > 0, count > 0 else { return [] }
        let layout = SegmentGraphLayout(
            codec: codec, prefetchBytes: prefetchBytes, codes: codes, codeStride: metadata.codeStride,
            levelZero: levelZero, upper: try upperLayers())
        let hits = live.bytes.withUnsafeBufferPointer { bits in
            [SearchHit](unsafeUninitializedCapacity: k) { buffer, written in
                written = scratchPool.withScratch { scratch in
                    RowSearch(
                        graph: self, layout: layout, query: query, k: k, ef: ef, live: bits.baseAddress!,
                        liveCount: liveCount, out: buffer.baseAddress!, scratch: scratch
                    ).dispatch(filter)
                }
            }
        }
        if let failure = levelZero.failure { throw failure }
        return hits
    }

    /// One search with the filter as its concrete type.
    private struct RowSearch: FilterBody {
        let graph: MappedGraph
        let layout: SegmentGraphLayout<Codec>
        let query: UnsafePointer<Float>
        let k: Int
        let ef: Int
        let live: UnsafePointer<UInt8>
        let liveCount: Int
        let out: UnsafeMutablePointer<SearchHit>
        let scratch: SearchScratch

        @inline(__always)
        func run<Filter: SearchFilter>(_ filter: Filter) -> Int {
            let accept = SegmentRows(
                live: live, ids: graph.ids, filter: filter,
                acceptsAll: Filter.self == NoFilter.self && liveCount == graph.count)
            return graph.search(
                query, layout: layout, k: k, ef: ef, filter: filter, accept: accept, liveCount: liveCount, into: out,
                scratch: scratch)
        }
    }
}

extension MappedGraph: KNNGraph {
    typealias Layout = SegmentGraphLayout<Codec>

    var slotCount: Int { count }
    var searchEntry: (slot: UInt32, level: Int)? { count > 0 ? (UInt32(metadata.entryPoint), metadata.entryLevel) : nil }
    var float32Rows: UnsafePointer<Float>? { originals }
    var rescoringOversampling: Int { metadata.rescoringOversampling }

    @inline(__always)
    func identifier(_ slot: UInt32) -> VectorID { id(Int(slot)) }
}
