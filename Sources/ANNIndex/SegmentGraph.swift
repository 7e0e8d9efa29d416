import CSearchKernels
import SearchCore
import Synchronization
import Tensor

/// A segment opened for search: its HNSW graph over codes read in place from
/// the mapping, with its identifiers and id map.
///
/// An enumeration over the codecs rather than an existential, so every call
/// reaches a ``MappedGraph`` of a concrete codec and the search loop is
/// specialised for it (a generic class called through a protocol would run
/// unspecialised, with a witness call per distance).
enum SegmentGraph: Sendable {
    case float32(MappedGraph<Float32Codec>)
    case float16(MappedGraph<Float16Codec>)
    case int8(MappedGraph<Int8Codec>)

    /// Opens the graph of a validated segment.
    ///
    /// - Throws: ``SearchError/Code/corruptData`` naming the file when a
    ///   section is missing, has the wrong size, or does not decode.
    init(_ reader: SegmentReader, kernels: Kernels) throws(SearchError) {
        let (d, metric) = (reader.header.dimension, reader.header.metric)
        switch reader.header.storage {
        case .float32: self = .float32(try MappedGraph(reader, codec: Float32Codec(dimension: d, metric: metric, kernels: kernels), kernels: kernels))
        case .float16: self = .float16(try MappedGraph(reader, codec: Float16Codec(dimension: d, metric: metric, kernels: kernels), kernels: kernels))
        case .int8: self = .int8(try MappedGraph(reader, codec: Int8Codec(dimension: d, metric: metric, kernels: kernels), kernels: kernels))
        }
    }

    var reader: SegmentReader {
        switch self {
        case .float32(let g): g.reader
        case .float16(let g): g.reader
        case .int8(let g): g.reader
        }
    }

    /// Rows, live or deleted.
    var count: Int { reader.header.count }

    /// The identifier of `row`.
    func id(_ row: Int) -> VectorID {
        switch self {
        case .float32(let g): g.id(row)
        case .float16(let g): g.id(row)
        case .int8(let g): g.id(row)
        }
    }

    /// The row holding `id` when the segment was written, if any (see ``MappedGraph/row(of:)``).
    func row(of id: VectorID) -> Int? {
        switch self {
        case .float32(let g): g.row(of: id)
        case .float16(let g): g.row(of: id)
        case .int8(let g): g.row(of: id)
        }
    }

    /// The float32 vector of `row`: the original where kept, else the decoded code.
    func vector(_ row: Int, into out: UnsafeMutablePointer<Float>) {
        switch self {
        case .float32(let g): g.vector(row, into: out)
        case .float16(let g): g.vector(row, into: out)
        case .int8(let g): g.vector(row, into: out)
        }
    }

    /// The `k` nearest rows live in `live` and allowed by `filter`; `query` is
    /// normalised under cosine. Throws when a part of the graph it needed is damaged.
    func search<Filter: SearchFilter>(
        _ query: UnsafePointer<Float>, k: Int, ef: Int, filter: Filter, live: LiveSet, liveCount: Int
    ) throws(SearchError) -> [SearchHit] {
        // The library's filters by their concrete types, so the loop is specialised for each
        // (called from another module, a generic filter would reach it unspecialised).
        if let f = filter as? NoFilter { return try searchSpecialized(query, k: k, ef: ef, filter: f, live: live, liveCount: liveCount) }
        if let f = filter as? AllowList { return try searchSpecialized(query, k: k, ef: ef, filter: f, live: live, liveCount: liveCount) }
        if let f = filter as? IDBitSet { return try searchSpecialized(query, k: k, ef: ef, filter: f, live: live, liveCount: liveCount) }
        if let f = filter as? DenyList { return try searchSpecialized(query, k: k, ef: ef, filter: f, live: live, liveCount: liveCount) }
        if let f = filter as? PredicateFilter { return try searchSpecialized(query, k: k, ef: ef, filter: f, live: live, liveCount: liveCount) }
        return try searchSpecialized(query, k: k, ef: ef, filter: ForeignFilter(filter), live: live, liveCount: liveCount)
    }

    @inline(__always)
    private func searchSpecialized<Filter: SearchFilter>(
        _ query: UnsafePointer<Float>, k: Int, ef: Int, filter: Filter, live: LiveSet, liveCount: Int
    ) throws(SearchError) -> [SearchHit] {
        switch self {
        case .float32(let g): try g.search(query, k: k, ef: ef, filter: filter, live: live, liveCount: liveCount)
        case .float16(let g): try g.search(query, k: k, ef: ef, filter: filter, live: live, liveCount: liveCount)
        case .int8(let g): try g.search(query, k: k, ef: ef, filter: filter, live: live, liveCount: liveCount)
        }
    }

    /// Bytes of level-0 lists decoded so far.
    var decodedGraphBytes: Int {
        switch self {
        case .float32(let g): g.levelZero.decodedBytes
        case .float16(let g): g.levelZero.decodedBytes
        case .int8(let g): g.levelZero.decodedBytes
        }
    }

    /// Decodes the whole graph now.
    func decodeGraph() throws(SearchError) {
        switch self {
        case .float32(let g): try g.levelZero.decodeAll()
        case .float16(let g): try g.levelZero.decodeAll()
        case .int8(let g): try g.levelZero.decodeAll()
        }
    }
}

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
    static var exactScanBelowSelectivity: Double { HNSWIndex.Configuration().exactScanBelowSelectivity }

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

    /// The float32 distance from a query to `row`: exact with originals, else the codec's.
    @inline(__always)
    private func exactDistance(_ query: UnsafePointer<Float>, _ prepared: PreparedQuery, _ row: UInt32) -> Float {
        guard let originals else { return codec.distance(prepared, codes + Int(row) * metadata.codeStride) }
        let x = originals + Int(row) * dimension
        return metric == .squaredL2 ? kernels.squaredL2(query, x, count: dimension) : 1 - kernels.dot(query, x, count: dimension)
    }

    func search<Filter: SearchFilter>(
        _ query: UnsafePointer<Float>, k: Int, ef requestedEF: Int, filter: Filter, live: LiveSet, liveCount: Int
    ) throws(SearchError) -> [SearchHit] {
        guard liveCount > 0, count > 0 else { return [] }
        let graph = SegmentGraphLayout(
            codec: codec, prefetchBytes: prefetchBytes, codes: codes, codeStride: metadata.codeStride,
            levelZero: levelZero, upper: try upperLayers())
        let hits = live.bytes.withUnsafeBufferPointer { bits in
            scratchPool.withScratch { scratch in
                search(
                    query, graph: graph, k: k, ef: max(requestedEF, k), filter: filter, live: bits.baseAddress!,
                    liveCount: liveCount, scratch: scratch)
            }
        }
        if let failure = levelZero.failure { throw failure }
        return hits
    }

    private func search<Filter: SearchFilter>(
        _ vector: UnsafePointer<Float>, graph: SegmentGraphLayout<Codec>, k: Int, ef: Int, filter: Filter,
        live: UnsafePointer<UInt8>, liveCount: Int, scratch: SearchScratch
    ) -> [SearchHit] {
        let unfiltered = Filter.self == NoFilter.self
        let accept = SegmentRows(live: live, ids: ids, filter: filter, acceptsAll: unfiltered && liveCount == count)
        if !unfiltered && estimatedSelectivity(accept, liveCount: liveCount) < Self.exactScanBelowSelectivity {
            return exactScan(vector, k: k, accept: accept, scratch: scratch)
        }
        let query = codec.prepare(query: vector, scratch: scratch.queryBuffer)
        var current = UInt32(metadata.entryPoint)
        var distance = codec.distance(query, graph.code(current))
        for layer in stride(from: metadata.entryLevel, to: 0, by: -1) {
            (current, distance) = LayerSearch.greedy(graph, query, from: current, distance: distance, layer: layer, scratch: scratch)
        }
        LayerSearch.searchLayer(
            graph, query, entry: current, entryDistance: distance, ef: ef, layer: 0, nodeCount: count, accept: accept,
            scratch: scratch)
        if scratch.results.count < k && scratch.results.count < liveCount {
            return exactScan(vector, k: k, accept: accept, scratch: scratch)
        }
        let keep = originals != nil ? min(scratch.results.count, k * metadata.rescoringOversampling) : k
        while scratch.results.count > keep { scratch.results.pop() }
        let found = scratch.results.elements
        if originals != nil {
            for j in found.indices { mms_prefetch(originals! + Int(found[j].slot) * dimension, min(dimension * 4, 1024)) }
            for j in found.indices { found[j].distance = exactDistance(vector, query, found[j].slot) }
        }
        return hits(found, k: k)
    }

    /// The closest `k` of `found` as hits, ties by id.
    private func hits(_ found: UnsafeMutableBufferPointer<Neighbor>, k: Int) -> [SearchHit] {
        found.sortClosestFirst()
        return found.prefix(k).map { SearchHit(id: id(Int($0.slot)), distance: $0.distance) }.sorted(by: SearchHit.closerFirst)
    }

    /// The exact answer over the accepted rows.
    private func exactScan<Filter: SearchFilter>(
        _ vector: UnsafePointer<Float>, k: Int, accept: SegmentRows<Filter>, scratch: SearchScratch
    ) -> [SearchHit] {
        let query = codec.prepare(query: vector, scratch: scratch.queryBuffer)
        var results = scratch.results
        defer { scratch.results = results }
        results.removeAll()
        for row in 0..<UInt32(count) where accept.accepts(row) {
            let d = exactDistance(vector, query, row)
            if results.count < k {
                results.push(Neighbor(distance: d, slot: row))
            } else if d < results.top.distance {
                results.replaceTop(Neighbor(distance: d, slot: row))
            }
        }
        return hits(results.elements, k: k)
    }

    /// The fraction of live rows the filter allows, from 128 evenly spaced rows.
    private func estimatedSelectivity<Filter: SearchFilter>(_ accept: SegmentRows<Filter>, liveCount: Int) -> Double {
        let samples = min(128, count)
        var live = 0
        var allowed = 0
        for i in 0..<samples {
            let row = i * count / samples
            guard accept.live[row >> 3] & (1 << UInt8(row & 7)) != 0 else { continue }
            live += 1
            if accept.accepts(UInt32(row)) { allowed += 1 }
        }
        return live == 0 ? 0 : Double(allowed) / Double(live)
    }
}

/// One segment file opened read-only for search — for serving an index built
/// elsewhere, or inspecting what a ``PersistentIndex`` wrote. Every row is
/// taken as live (deletions live in the persistent index's manifest).
///
/// A ``VectorIndex`` that cannot be written: ``add(_:ids:)`` and
/// ``remove(_:)`` throw ``SearchError/Code/invalidArgument``.
///
/// ```swift
/// let segment = try SegmentIndex(path: "/data/vectors/seg-000001.mmsseg", verification: .structure)
/// let hits = try segment.search(query, k: 10)
/// let wider = try segment.search(query, k: 10, ef: 128)
/// ```
public final class SegmentIndex: VectorIndex {
    /// The open file.
    public let reader: SegmentReader
    let graph: SegmentGraph
    let kernels: Kernels
    private let all: LiveSet

    /// The candidate list size searches use unless given one: the HNSW
    /// configuration's default ``HNSWIndex/Configuration/efSearch``.
    public static let defaultEF = HNSWIndex.Configuration().efSearch

    /// Opens, validates and maps a segment with a graph.
    ///
    /// - Throws: ``SearchError`` as ``SegmentReader/init(path:verification:)``,
    ///   and ``SearchError/Code/corruptData`` when the graph's sections are
    ///   missing or damaged.
    public init(path: String, verification: SegmentReader.Verification = .full, kernels: Kernels = .active) throws(SearchError) {
        reader = try SegmentReader(path: path, verification: verification)
        graph = try SegmentGraph(reader, kernels: kernels)
        self.kernels = kernels
        all = LiveSet(allLive: reader.header.count)
    }

    /// Components per vector.
    public var dimension: Int { reader.header.dimension }

    /// How vectors are compared.
    public var metric: Metric { reader.header.metric }

    /// Rows in the segment.
    public var count: Int { graph.count }

    /// Bytes of level-0 lists decoded so far.
    public var decodedGraphBytes: Int { graph.decodedGraphBytes }

    /// Decodes the whole graph now rather than as searches reach it.
    public func decodeGraph() throws(SearchError) { try graph.decodeGraph() }

    /// The identifier of `row`. Precondition: `0 <= row < count`.
    public func id(ofRow row: Int) -> VectorID {
        precondition(row >= 0 && row < count, "row \(row) outside a segment of \(count)")
        return graph.id(row)
    }

    /// Refuses: a segment is immutable.
    ///
    /// - Throws: ``SearchError/Code/invalidArgument``, always.
    public func add(_ vectors: UnsafeBufferPointer<Float>, ids: [VectorID]) throws(SearchError) {
        throw Self.readOnly()
    }

    /// Refuses: a segment is immutable.
    ///
    /// - Throws: ``SearchError/Code/invalidArgument``, always.
    @discardableResult
    public func remove(_ ids: [VectorID]) throws(SearchError) -> Int {
        throw Self.readOnly()
    }

    private static func readOnly() -> SearchError {
        SearchError(.invalidArgument, "a SegmentIndex is read-only; open a PersistentIndex to write")
    }

    /// The `k` nearest rows allowed by `filter`, closest first, with candidate
    /// list ``defaultEF``.
    ///
    /// - Throws: ``SearchError`` for a bad query or `k`, and
    ///   ``SearchError/Code/corruptData`` when a graph block is damaged.
    /// - Complexity: about O(ef · M0 · log N · `dimension`).
    public func search<Filter: SearchFilter>(
        _ query: UnsafeBufferPointer<Float>, k: Int, filter: Filter
    ) throws(SearchError) -> [SearchHit] {
        try search(query, k: k, ef: Self.defaultEF, filter: filter)
    }

    /// The `k` nearest rows allowed by `filter`, closest first, searching with
    /// a candidate list of `ef` (*ef* in the HNSW paper).
    ///
    /// - Throws: ``SearchError`` for a bad query, `k` or `ef`, and
    ///   ``SearchError/Code/corruptData`` when a graph block is damaged.
    /// - Complexity: about O(ef · M0 · log N · `dimension`).
    public func search<Filter: SearchFilter>(
        _ query: UnsafeBufferPointer<Float>, k: Int, ef: Int, filter: Filter
    ) throws(SearchError) -> [SearchHit] {
        try VectorInput.checkK(k)
        guard ef >= 1 && ef <= 1 << 16 else { throw SearchError(.invalidArgument, "ef must be in 1...65536, got \(ef)") }
        let header = reader.header
        try VectorInput.validate(query, rows: 1, dimension: header.dimension, metric: header.metric, kernels: kernels, what: "query")
        var prepared = Array(query)
        if header.metric == .cosine { _ = prepared.withUnsafeMutableBufferPointer { VectorMath.l2Normalize($0) } }
        return try prepared.withUnsafeBufferPointer { (q) throws(SearchError) -> [SearchHit] in
            try graph.search(q.baseAddress!, k: k, ef: ef, filter: filter, live: all, liveCount: all.count)
        }
    }

    /// The `k` nearest rows allowed by `filter`, closest first, with candidate list `ef`.
    ///
    /// - Throws: as ``search(_:k:ef:filter:)-(UnsafeBufferPointer<Float>,_,_,_)``.
    public func search<Filter: SearchFilter>(
        _ query: [Float], k: Int, ef: Int, filter: Filter = NoFilter()
    ) throws(SearchError) -> [SearchHit] {
        try query.withUnsafeBufferPointer { (q) throws(SearchError) -> [SearchHit] in try search(q, k: k, ef: ef, filter: filter) }
    }
}
