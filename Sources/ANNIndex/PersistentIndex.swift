import Foundation
import SearchCore
import StoragePrimitives
import Tensor

/// A vector index that lives in a directory and survives crashes.
///
/// New vectors go to an in-memory *head*, an ``HNSWIndex``, each batch first
/// made durable in a write-ahead log (``WriteAheadLog``): when
/// ``add(_:ids:)`` or ``remove(_:)`` returns, the change survives `kill -9`.
/// ``flush()`` writes the head's graph as an immutable, checksummed segment
/// (``SegmentWriter``): codes raw and 64-byte aligned, searched in place
/// from the memory mapping; the graph LZ4-compressed, its rows numbered
/// breadth-first so neighbours sit together, its level-0 blocks decoded on
/// first use. The ``Manifest``, replaced atomically, says which segments and
/// which log make up the index, and which segment vectors are deleted.
/// ``compact()`` rebuilds the segments into one without their deleted
/// vectors and gives the disk and memory back.
///
/// Opening replays the log after a crash. A torn tail (an interrupted write)
/// is cut; damage to a complete record is an error unless the
/// ``RecoveryPolicy`` allows dropping it; either way ``recovery`` says what
/// was replayed and what was dropped. ``close()`` releases the log.
///
/// Searches run over the head and every segment and merge one top-k; they see
/// a consistent state — never half of a batch — and run concurrently with
/// each other; writes are serialised.
///
/// ```swift
/// var configuration = HNSWIndex.Configuration()
/// configuration.encoding = .int8              // float32 originals kept for re-scoring
/// let index = try PersistentIndex(directory: "/data/vectors", dimension: 384, metric: .cosine,
///                                 configuration: configuration)
/// try index.add(vectors, ids: ids)            // durable when it returns
/// let hits = try index.search(query, k: 10)
/// try index.flush()                           // head → segment
/// ```
public final class PersistentIndex: VectorIndex {
    /// The directory holding the manifest, segments and log.
    public let directory: String
    /// Components per vector.
    public let dimension: Int
    /// How vectors are compared.
    public let metric: Metric
    /// The graph of the head, and of every segment this index writes.
    public let configuration: HNSWIndex.Configuration
    /// Vectors in the head beyond which an `add` flushes it to a segment.
    public let flushThreshold: Int
    /// The merge policy: when a flush leaves more segments than this, they
    /// are compacted into one (so searches and opens touch a bounded number
    /// of files).
    public let maximumSegments: Int
    /// How much of each segment is checked when it is opened.
    public let verification: SegmentReader.Verification
    /// Whether segments are written with their rows in breadth-first order
    /// (see ``HNSWIndex/writeSegment(to:reorderingRows:levelZeroBlockRows:)``).
    public let reordersRows: Bool
    /// Rows per independently decoded level-0 block in segments this index writes.
    public let levelZeroBlockRows: Int

    let lock = ReadWriteLock()
    let kernels: Kernels
    /// The index's mutable state. `nonisolated(unsafe)` is sound because every
    /// read holds ``lock`` shared and every write holds it exclusively (and
    /// `init`, before the index is shared, runs alone): the lock, not the
    /// compiler, serialises access.
    nonisolated(unsafe) var state: State

    struct LoadedSegment {
        let graph: SegmentGraph
        var live: LiveSet
        var liveCount: Int

        var fileName: String { (graph.reader.path as NSString).lastPathComponent }

        /// The live row holding `id`, if any.
        func liveRow(of id: VectorID) -> Int? {
            guard let row = graph.row(of: id), live.isLive(row) else { return nil }
            return row
        }
    }

    struct State {
        var manifest: Manifest
        var segments: [LoadedSegment]
        var log: WriteAheadLog
        var head: HNSWIndex
        var closed = false
    }

    /// What opening the index found in its write-ahead log and did about it:
    /// records replayed, bytes kept and dropped, and why.
    ///
    /// When recovery dropped anything, its ``RecoveryReport/description`` is
    /// also written to ``recoverySummaryFileName`` in the directory, so a
    /// later process can show it.
    public let recovery: RecoveryReport

    /// The file in the index directory holding the description of the last
    /// recovery that dropped bytes.
    public static let recoverySummaryFileName = "last-recovery.txt"

    /// Opens the index in `directory`, creating it when empty, and recovers:
    /// the log after the last flush is replayed into the head as
    /// `recoveryPolicy` allows (see ``recovery``), and files a crash left
    /// behind are removed.
    ///
    /// - Parameters:
    ///   - configuration: the HNSW graph of the head and of new segments
    ///     (encoding, *M*, *efConstruction*, seed, build threads). With one
    ///     build thread, the same batches give byte-identical segments.
    ///   - verification: `.full` (the default) checks every byte of every
    ///     segment against its checksum when opening, so damage anywhere is an
    ///     error before any search; `.structure` checks headers, section tables,
    ///     the graph metadata, upper layers and id maps, and each level-0 block
    ///     when it is first decoded, leaving the codes and float32 originals
    ///     (most of the bytes) to ``verify()``, to run when convenient.
    ///   - reordersRows: write segment rows in breadth-first order: a smaller
    ///     level 0 and a faster first query after a cold open (see
    ///     ``HNSWIndex/writeSegment(to:reorderingRows:levelZeroBlockRows:)``).
    ///   - levelZeroBlockRows: rows per level-0 block, a power of two from 16
    ///     to 4,096.
    ///   - recoveryPolicy: what to do with damage in the write-ahead log:
    ///     `.repairTornTail` (the default) cuts an interrupted write and
    ///     refuses damage; `.dropDamagedRecords` also drops a damaged record
    ///     and everything after it (kept in a side file, and reported);
    ///     `.strict` refuses both.
    /// - Throws: ``SearchError`` — `.corruptData` naming the file and offset for
    ///   damage (for log damage, saying how to open anyway), `.invalidArgument`
    ///   when the directory holds an index of another dimension or metric, or
    ///   for a bad parameter.
    public init(
        directory: String, dimension: Int, metric: Metric, configuration: HNSWIndex.Configuration = HNSWIndex.Configuration(),
        flushThreshold: Int = 100_000, maximumSegments: Int = 8, verification: SegmentReader.Verification = .full,
        reordersRows: Bool = true, levelZeroBlockRows: Int = 256, recoveryPolicy: RecoveryPolicy = .repairTornTail
    ) throws(SearchError) {
        guard dimension > 0, dimension <= 65_536 else {
            throw SearchError(.invalidArgument, "dimension must be in 1...65536; got \(dimension)")
        }
        guard flushThreshold > 0, maximumSegments > 0 else {
            throw SearchError(.invalidArgument, "the flush threshold and the segment limit must be positive")
        }
        guard (16...4_096).contains(levelZeroBlockRows), levelZeroBlockRows.nonzeroBitCount == 1 else {
            throw SearchError(.invalidArgument, "levelZeroBlockRows must be a power of two from 16 to 4096; got \(levelZeroBlockRows)")
        }
        try configuration.validate()
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw SearchError(.io, "cannot create \(directory)", underlying: SendableText(error))
        }
        self.directory = directory
        self.dimension = dimension
        self.metric = metric
        self.configuration = configuration
        self.flushThreshold = flushThreshold
        self.maximumSegments = maximumSegments
        self.verification = verification
        self.reordersRows = reordersRows
        self.levelZeroBlockRows = levelZeroBlockRows
        kernels = .active
        let manifest = try Manifest.read(fromDirectory: directory) ?? Manifest(generation: 0, logGeneration: 1, segments: [])
        var segments: [LoadedSegment] = []
        for entry in manifest.segments {
            let reader = try SegmentReader(path: directory + "/" + entry.fileName, verification: verification)
            guard reader.header.dimension == dimension, reader.header.metric == metric, reader.header.count == entry.count else {
                throw SearchError(
                    .invalidArgument,
                    "\(reader.path) holds \(reader.header.count) \(reader.header.dimension)-component \(reader.header.metric) vectors; this index is \(dimension)-component \(metric) and its manifest says \(entry.count)")
            }
            // Adds and removes look identifiers up in the id map: check it now whatever the verification.
            if verification == .structure { try reader.verifySection(.idMap) }
            segments.append(
                LoadedSegment(graph: try SegmentGraph(reader, kernels: kernels), live: entry.live, liveCount: entry.live.liveCount))
        }
        let logPath = Self.logPath(directory, manifest.logGeneration)
        let (log, records) = try WriteAheadLog.open(path: logPath, policy: recoveryPolicy)
        recovery = log.recovery
        state = State(
            manifest: manifest, segments: segments, log: log,
            head: try HNSWIndex(dimension: dimension, metric: metric, configuration: configuration))
        for (i, payload) in records.enumerated() {
            let operation = try LogOperation.decode(payload, dimension: dimension, log: logPath, record: i)
            try apply(operation)
        }
        if recovery.droppedAnything {
            try AtomicFile.replace(directory + "/" + Self.recoverySummaryFileName, with: [Array((recovery.description + "\n").utf8)])
        }
        removeStrayFiles()
    }

    /// Closes the write-ahead log. Later adds, removes, searches, flushes and
    /// compactions throw ``SearchError/Code/invalidArgument``; closing again
    /// does nothing. What was acknowledged is already durable; the memory and
    /// mappings are released when the index is deinitialised.
    public func close() {
        lock.withWriteLock {
            guard !state.closed else { return }
            state.closed = true
            state.log.close()
        }
    }

    /// Throws when ``close()`` has been called; the caller holds the lock.
    func checkOpen() throws(SearchError) {
        guard !state.closed else {
            throw SearchError(.invalidArgument, "the index in \(directory) is closed; open a new PersistentIndex to use it")
        }
    }

    static func logPath(_ directory: String, _ generation: UInt64) -> String {
        directory + "/wal-" + String(format: "%06llu", generation) + ".log"
    }

    static func segmentName(_ generation: UInt64) -> String {
        "seg-" + String(format: "%06llu", generation) + ".mmsseg"
    }

    static func readIDs(_ reader: SegmentReader) throws(SearchError) -> [VectorID] {
        let bytes = try reader.section(.ids)
        guard bytes.count == reader.header.count * 8 else {
            throw SearchError(.corruptData, "\(reader.path): the id section holds \(bytes.count) bytes for \(reader.header.count) vectors")
        }
        return (0..<reader.header.count).map { VectorID(LittleEndian.read(UInt64.self, bytes, at: 8 * $0)) }
    }

    /// Removes segment and log files the manifest does not name (left by a
    /// crash between writing them and switching the manifest).
    private func removeStrayFiles() {
        let keep = Set(state.manifest.segments.map(\.fileName) + [
            (Self.logPath(directory, state.manifest.logGeneration) as NSString).lastPathComponent, Manifest.fileName,
        ])
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where !keep.contains(name) {
            // `<log>.damaged-<offset>` keeps bytes recovery dropped: never removed here.
            let sideFile = name.contains(".damaged-") && !name.hasSuffix(".tmp")
            if name.hasSuffix(".tmp") || (!sideFile && (name.hasPrefix("seg-") || name.hasPrefix("wal-"))) {
                try? FileManager.default.removeItem(atPath: directory + "/" + name)
            }
        }
    }

    /// Checks every byte of every segment against its checksum (what
    /// `.full` verification does when opening).
    ///
    /// - Throws: ``SearchError/Code/corruptData`` naming the file, section and offset.
    public func verify() throws(SearchError) {
        let segments = try lock.withReadLock { () throws(SearchError) in
            try checkOpen()
            return state.segments
        }
        for segment in segments { try segment.graph.reader.verifySections() }
    }

    // MARK: - Reading

    /// Live vectors in the head and every segment.
    public var count: Int {
        lock.withReadLock { state.head.count + state.segments.reduce(0) { $0 + $1.liveCount } }
    }

    /// Whether a live vector has this identifier.
    public func contains(_ id: VectorID) -> Bool {
        lock.withReadLock { state.head.contains(id) || state.segments.contains { $0.liveRow(of: id) != nil } }
    }

    /// The number of segments.
    public var segmentCount: Int { lock.withReadLock { state.segments.count } }

    /// The manifest's generation (increases with every flush and compaction).
    public var generation: UInt64 { lock.withReadLock { state.manifest.generation } }

    /// Bytes the index occupies on disk.
    public var diskBytes: Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.reduce(0) { total, name in
            let size = (try? FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.size] as? Int) ?? 0
            return total + size
        }
    }

    /// What the index holds in memory, in bytes.
    public struct MemoryUse: Sendable, Hashable {
        /// The head's graph, codes and float32 copies.
        public var head: Int
        /// Segment level-0 lists decoded so far.
        public var decodedGraph: Int
        /// Segment files mapped (address space; the kernel pages it in and out).
        public var mapped: Int
    }

    /// The memory held now.
    public var memory: MemoryUse {
        lock.withReadLock {
            MemoryUse(
                head: state.head.memory.total, decodedGraph: state.segments.reduce(0) { $0 + $1.graph.decodedGraphBytes },
                mapped: state.segments.reduce(0) { $0 + $1.graph.reader.fileSize })
        }
    }

    /// Decodes every segment's whole graph now, instead of block by block as
    /// searches reach it (for a server that would rather pay at start-up).
    public func decodeGraphs() throws(SearchError) {
        let segments = try lock.withReadLock { () throws(SearchError) in
            try checkOpen()
            return state.segments
        }
        for segment in segments { try segment.graph.decodeGraph() }
    }

    /// The `k` nearest live vectors allowed by `filter`, closest first, with
    /// the configured ``HNSWIndex/Configuration/efSearch``.
    public func search<Filter: SearchFilter>(
        _ query: UnsafeBufferPointer<Float>, k: Int, filter: Filter
    ) throws(SearchError) -> [SearchHit] {
        try search(query, k: k, ef: configuration.efSearch, filter: filter)
    }

    /// The `k` nearest live vectors allowed by `filter`, closest first: the
    /// head and every segment searched with candidate list `ef`, merged.
    ///
    /// - Throws: ``SearchError`` for a bad query or `k`, and
    ///   ``SearchError/Code/corruptData`` when a segment's graph turns out to
    ///   be damaged (with `.structure` verification).
    public func search<Filter: SearchFilter>(
        _ query: UnsafeBufferPointer<Float>, k: Int, ef: Int, filter: Filter
    ) throws(SearchError) -> [SearchHit] {
        try SearchBounds.check(k: k, ef: ef)
        let q = try prepared(query)
        return try lock.withReadLock { () throws(SearchError) -> [SearchHit] in
            try checkOpen()
            return try q.withUnsafeBufferPointer { (qp) throws(SearchError) -> [SearchHit] in
                var hits = try state.head.search(qp, k: k, ef: ef, filter: filter)
                for segment in state.segments where segment.liveCount > 0 {
                    hits += try segment.graph.search(qp.baseAddress!, k: k, ef: ef, filter: filter, live: segment.live, liveCount: segment.liveCount)
                }
                return Array(hits.sorted(by: SearchHit.closerFirst).prefix(k))
            }
        }
    }

    /// A query checked and, under cosine, normalised.
    func prepared(_ v: UnsafeBufferPointer<Float>) throws(SearchError) -> [Float] {
        try SearchError.checkDimension(v.count, expected: dimension, "the query")
        var copy = Array(v)
        try normalizeIfCosine(&copy, what: "the query")
        return copy
    }

    func normalizeIfCosine(_ v: inout [Float], what: String) throws(SearchError) {
        guard v.allSatisfy({ $0.isFinite }) else {
            throw SearchError(.invalidVector, "\(what) holds NaN or an infinite component")
        }
        guard metric == .cosine else { return }
        let norm = v.withUnsafeMutableBufferPointer { VectorMath.l2Normalize($0) }
        guard norm > 0 else { throw SearchError(.invalidVector, "\(what) is a zero vector, which has no direction under cosine") }
    }
}

/// An error from Foundation kept as text, so it can be a `Sendable` cause.
struct SendableText: Error, Sendable, CustomStringConvertible {
    var description: String
    init(_ error: any Error) { description = "\(error)" }
}
