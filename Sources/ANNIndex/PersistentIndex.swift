import Foundation
import SearchCore
import Tensor

/// A vector index that lives in a directory and survives crashes.
///
/// New vectors go to an in-memory *head*, each batch first made durable in
/// a write-ahead log (``WriteAheadLog``): when ``add(_:ids:)`` or
/// ``remove(_:)`` returns, the change survives `kill -9`. ``flush()`` turns
/// the head into an immutable, checksummed, memory-mapped segment
/// (``SegmentWriter``) and starts a new log; the ``Manifest``, replaced
/// atomically, says which segments and which log make up the index, and
/// which segment vectors are deleted. ``compact()`` rewrites the segments
/// without their deleted vectors and gives the disk back.
///
/// Searches see a consistent state — never half of a batch — and run
/// concurrently with each other; writes are serialised.
///
/// - Note: this version searches segments exactly (a scan of the mapped
///   float32 rows with the SIMD kernels): correct at any size, and the
///   baseline the graph-backed segment search improves on.
///
/// ```swift
/// let index = try PersistentIndex(directory: "/data/vectors", dimension: 384, metric: .cosine)
/// try index.add(vectors, ids: ids)        // durable when it returns
/// let hits = try index.search(query, k: 10)
/// try index.flush()                        // head → segment
/// ```
public final class PersistentIndex: VectorIndex {
    /// The directory holding the manifest, segments and log.
    public let directory: String
    /// Components per vector.
    public let dimension: Int
    /// How vectors are compared.
    public let metric: Metric
    /// Vectors in the head beyond which an `add` flushes it to a segment.
    public let flushThreshold: Int
    /// The merge policy: when a flush leaves more segments than this, they
    /// are compacted into one (so searches and opens touch a bounded number
    /// of files).
    public let maximumSegments: Int

    let lock = ReadWriteLock()
    let kernels: Kernels
    /// The index's mutable state. `nonisolated(unsafe)` is sound because every
    /// read holds ``lock`` shared and every write holds it exclusively (and
    /// `init`, before the index is shared, runs alone): the lock, not the
    /// compiler, serialises access.
    nonisolated(unsafe) var state: State

    struct LoadedSegment {
        let reader: SegmentReader
        let ids: [VectorID]
        var live: LiveSet
        var rowOf: [VectorID: Int]
    }

    struct State {
        var manifest: Manifest
        var segments: [LoadedSegment]
        var log: WriteAheadLog
        /// The head: rows in insertion order; a replaced or removed row is a tombstone.
        var headIDs: [VectorID] = []
        var headVectors: [Float] = []
        var headLive: [Bool] = []
        var headRow: [VectorID: Int] = [:]
    }

    /// Opens the index in `directory`, creating it when empty, and recovers:
    /// the log after the last flush is replayed (a torn final record is
    /// dropped), and files a crash left behind are removed.
    ///
    /// - Throws: ``SearchError`` — `.corruptData` naming the file and offset for
    ///   damage, `.invalidArgument` when the directory holds an index of
    ///   another dimension or metric.
    public init(
        directory: String, dimension: Int, metric: Metric, flushThreshold: Int = 100_000, maximumSegments: Int = 8
    ) throws(SearchError) {
        guard dimension > 0, dimension <= 65_536 else {
            throw SearchError(.invalidArgument, "dimension must be in 1...65536; got \(dimension)")
        }
        guard flushThreshold > 0, maximumSegments > 0 else {
            throw SearchError(.invalidArgument, "the flush threshold and the segment limit must be positive")
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw SearchError(.io, "cannot create \(directory)", underlying: SendableText(error))
        }
        self.directory = directory
        self.dimension = dimension
        self.metric = metric
        self.flushThreshold = flushThreshold
        self.maximumSegments = maximumSegments
        kernels = .active
        let manifest = try Manifest.read(fromDirectory: directory) ?? Manifest(generation: 0, logGeneration: 1, segments: [])
        var segments: [LoadedSegment] = []
        for entry in manifest.segments {
            let reader = try SegmentReader(path: directory + "/" + entry.fileName)
            guard reader.header.dimension == dimension, reader.header.metric == metric, reader.header.storage == .float32,
                reader.header.count == entry.count
            else {
                throw SearchError(
                    .invalidArgument,
                    "\(reader.path) holds \(reader.header.count) \(reader.header.dimension)-component \(reader.header.metric) vectors; this index is \(dimension)-component \(metric) and its manifest says \(entry.count)")
            }
            // Searches scan the vectors: ask the kernel to read them ahead,
            // so the first queries do not fault pages in one at a time.
            reader.prefetch(.vectors)
            let ids = try Self.readIDs(reader)
            var rowOf: [VectorID: Int] = [:]
            for (row, id) in ids.enumerated() where entry.live.isLive(row) { rowOf[id] = row }
            segments.append(LoadedSegment(reader: reader, ids: ids, live: entry.live, rowOf: rowOf))
        }
        let logPath = Self.logPath(directory, manifest.logGeneration)
        let (log, records) = try WriteAheadLog.open(path: logPath)
        state = State(manifest: manifest, segments: segments, log: log)
        for (i, payload) in records.enumerated() {
            let operation = try LogOperation.decode(payload, dimension: dimension, log: logPath, record: i)
            apply(operation)
        }
        removeStrayFiles()
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
            if name.hasPrefix("seg-") || name.hasPrefix("wal-") || name.hasSuffix(".tmp") {
                try? FileManager.default.removeItem(atPath: directory + "/" + name)
            }
        }
    }

    // MARK: - Reading

    /// Live vectors in the head and every segment.
    public var count: Int {
        lock.withReadLock {
            state.headLive.reduce(0) { $0 + ($1 ? 1 : 0) } + state.segments.reduce(0) { $0 + $1.live.liveCount }
        }
    }

    /// Whether a live vector has this identifier.
    public func contains(_ id: VectorID) -> Bool {
        lock.withReadLock { state.headRow[id] != nil || state.segments.contains { $0.rowOf[id] != nil } }
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

    /// The `k` nearest live vectors allowed by `filter`, closest first, exactly.
    public func search<Filter: SearchFilter>(
        _ query: UnsafeBufferPointer<Float>, k: Int, filter: Filter
    ) throws -> [SearchHit] {
        guard k > 0 else { throw SearchError(.invalidArgument, "k must be at least 1, got \(k)") }
        var q = try prepared(query)
        return lock.withReadLock {
            var top = TopKSelector(k: k)
            var candidates: [VectorID] = []
            q.withUnsafeMutableBufferPointer { qp in
                let query = UnsafePointer(qp.baseAddress!)
                var scores: [Float] = []
                // The head and every segment are rows of floats scanned the same way.
                state.headVectors.withUnsafeBufferPointer { rows in
                    guard let base = rows.baseAddress else { return }
                    scan(query, base, rowCount: state.headIDs.count, scores: &scores) { row, d in
                        let id = state.headIDs[row]
                        if state.headLive[row] && filter.allows(id) { consider(&top, &candidates, d, id) }
                    }
                }
                for segment in state.segments {
                    guard let rows = try? segment.reader.section(.vectors), !segment.ids.isEmpty else { continue }
                    scan(query, rows.baseAddress!.assumingMemoryBound(to: Float.self), rowCount: segment.ids.count, scores: &scores) { row, d in
                        let id = segment.ids[row]
                        if segment.live.isLive(row) && filter.allows(id) { consider(&top, &candidates, d, id) }
                    }
                }
            }
            return top.sorted().map { SearchHit(id: candidates[Int($0.payload)], distance: $0.key) }
                .sorted(by: SearchHit.closerFirst)
        }
    }

    private func consider(_ top: inout TopKSelector, _ candidates: inout [VectorID], _ d: Float, _ id: VectorID) {
        guard d < top.threshold || top.count < top.k else { return }
        candidates.append(id)
        top.consider(d, Int32(candidates.count - 1))
    }

    /// Scores `rowCount` rows against the query with the one-to-many kernel
    /// and hands each row's distance to `visit`.
    @inline(__always)
    private func scan(
        _ query: UnsafePointer<Float>, _ rows: UnsafePointer<Float>, rowCount: Int, scores: inout [Float],
        _ visit: (Int, Float) -> Void
    ) {
        if scores.count < rowCount { scores = [Float](repeating: 0, count: rowCount) }
        scores.withUnsafeMutableBufferPointer { out in
            if metric == .squaredL2 {
                kernels.squaredL2(query, rows: rows, stride: dimension, rowCount: rowCount, count: dimension, into: out.baseAddress!)
            } else {
                kernels.dot(query, rows: rows, stride: dimension, rowCount: rowCount, count: dimension, into: out.baseAddress!)
            }
        }
        for row in 0..<rowCount { visit(row, metric == .squaredL2 ? scores[row] : 1 - scores[row]) }
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
