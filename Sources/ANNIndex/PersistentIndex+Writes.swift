import Foundation
import SearchCore

extension PersistentIndex {
    /// Adds (or replaces) vectors. Durable when it returns: the batch is one
    /// log record, written and flushed before the index changes. Flushes the
    /// head to a segment when it reaches ``flushThreshold``.
    ///
    /// - Throws: ``SearchError`` for a wrong size, NaN or ±Inf, a zero vector
    ///   under cosine, or an identifier twice in the batch; nothing changes then.
    public func add(_ vectors: UnsafeBufferPointer<Float>, ids: [VectorID]) throws {
        try SearchError.checkDimension(vectors.count, expected: ids.count * dimension, "the batch")
        guard Set(ids).count == ids.count else {
            throw SearchError(.duplicateID, "the batch names an identifier twice; each id may appear once per batch")
        }
        var rows = Array(vectors)
        for i in 0..<ids.count {
            var row = Array(rows[(i * dimension)..<((i + 1) * dimension)])
            try normalizeIfCosine(&row, what: "vector \(ids[i])")
            rows.replaceSubrange((i * dimension)..<((i + 1) * dimension), with: row)
        }
        let operation = LogOperation.add(ids: ids, vectors: rows)
        let full: Bool = try lock.withWriteLock { () throws(SearchError) -> Bool in
            try state.log.append(operation.encoded())
            try state.log.commit()
            apply(operation)
            return state.headIDs.count >= flushThreshold
        }
        if full { try flush() }
    }

    /// Deletes vectors; durable when it returns. Returns how many were live.
    @discardableResult
    public func remove(_ ids: [VectorID]) throws -> Int {
        try lock.withWriteLock { () throws(SearchError) -> Int in
            let present = ids.filter { id in state.headRow[id] != nil || state.segments.contains { $0.rowOf[id] != nil } }
            guard !present.isEmpty else { return 0 }
            let operation = LogOperation.remove(ids: present)
            try state.log.append(operation.encoded())
            try state.log.commit()
            apply(operation)
            return Set(present).count
        }
    }

    /// Applies a logged operation to the in-memory state (the caller holds the
    /// write lock, or is `init` replaying the log).
    func apply(_ operation: LogOperation) {
        switch operation {
        case .add(let ids, let vectors):
            for (i, id) in ids.enumerated() {
                deleteEverywhere(id)
                state.headRow[id] = state.headIDs.count
                state.headIDs.append(id)
                state.headLive.append(true)
                state.headVectors.append(contentsOf: vectors[(i * dimension)..<((i + 1) * dimension)])
            }
        case .remove(let ids):
            for id in ids { deleteEverywhere(id) }
        }
    }

    private func deleteEverywhere(_ id: VectorID) {
        if let row = state.headRow.removeValue(forKey: id) { state.headLive[row] = false }
        for s in state.segments.indices {
            if let row = state.segments[s].rowOf.removeValue(forKey: id) { state.segments[s].live.remove(row) }
        }
    }

    /// Writes the head's live vectors as a new segment and starts a new log.
    ///
    /// Order, so a crash at any point loses nothing: the segment file is
    /// written and flushed; an empty next log is created; the manifest naming
    /// both (and the segments' current deletions) replaces the old one; then
    /// the old log is removed. Until the manifest switch, the old manifest and
    /// log still describe everything.
    public func flush() throws {
        let tooMany = try lock.withWriteLock { () throws(SearchError) -> Bool in
            var manifest = state.manifest
            let liveRows = state.headLive.indices.filter { state.headLive[$0] }
            let nextGeneration = manifest.generation + 1
            var newSegment: PersistentIndex.LoadedSegment?
            if !liveRows.isEmpty {
                let name = Self.segmentName(nextGeneration)
                let ids = liveRows.map { state.headIDs[$0] }
                try writeSegment(name: name, ids: ids, rowVectors: liveRows.map { row in
                    state.headVectors[(row * dimension)..<((row + 1) * dimension)]
                })
                let reader = try SegmentReader(path: directory + "/" + name)
                newSegment = LoadedSegment(
                    reader: reader, ids: ids, live: LiveSet(allLive: ids.count),
                    rowOf: Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) }))
            }
            try switchManifest(
                generation: nextGeneration, segments: state.segments + (newSegment.map { [$0] } ?? []), manifest: &manifest)
            state.headIDs = []
            state.headVectors = []
            state.headLive = []
            state.headRow = [:]
            return state.segments.count > maximumSegments
        }
        if tooMany { try compactSegments() }
    }

    /// Rewrites every segment's live vectors into one new segment, drops the
    /// deleted ones, and removes the old files, giving their disk back. The
    /// head is flushed first.
    public func compact() throws {
        try flush()
        try compactSegments()
    }

    /// Merges every segment into one (see ``compact()``), leaving the head alone.
    func compactSegments() throws {
        try lock.withWriteLock { () throws(SearchError) in
            var manifest = state.manifest
            let nextGeneration = manifest.generation + 1
            var ids: [VectorID] = []
            var rows: [ArraySlice<Float>] = []
            for segment in state.segments {
                let vectors = try segment.reader.section(.vectors)
                let floats = vectors.bindMemory(to: Float.self)
                for row in 0..<segment.ids.count where segment.live.isLive(row) {
                    ids.append(segment.ids[row])
                    rows.append(ArraySlice(floats[(row * dimension)..<((row + 1) * dimension)]))
                }
            }
            var segments: [LoadedSegment] = []
            if !ids.isEmpty {
                let name = Self.segmentName(nextGeneration)
                try writeSegment(name: name, ids: ids, rowVectors: rows)
                let reader = try SegmentReader(path: directory + "/" + name)
                segments = [
                    LoadedSegment(
                        reader: reader, ids: ids, live: LiveSet(allLive: ids.count),
                        rowOf: Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) }))
                ]
            }
            let old = state.segments.map { $0.reader.path }
            try switchManifest(generation: nextGeneration, segments: segments, manifest: &manifest)
            for path in old { try? FileManager.default.removeItem(atPath: path) }
        }
    }

    private func writeSegment(name: String, ids: [VectorID], rowVectors: [ArraySlice<Float>]) throws(SearchError) {
        var writer = SegmentWriter(
            header: SegmentHeader(metric: metric, storage: .float32, dimension: dimension, count: ids.count))
        var vectorBytes: [UInt8] = []
        vectorBytes.reserveCapacity(ids.count * dimension * 4)
        for row in rowVectors { for v in row { LittleEndian.append(v.bitPattern, to: &vectorBytes) } }
        var idBytes: [UInt8] = []
        for id in ids { LittleEndian.append(id.rawValue, to: &idBytes) }
        writer.add(.vectors, bytes: vectorBytes)
        writer.add(.ids, bytes: idBytes)
        try writer.write(to: directory + "/" + name)
    }

    /// Creates the next log, writes the manifest naming `segments` and that
    /// log, then removes the previous log. Updates `state`.
    private func switchManifest(generation: UInt64, segments: [LoadedSegment], manifest: inout Manifest) throws(SearchError) {
        let nextLog = manifest.logGeneration + 1
        let nextLogPath = Self.logPath(directory, nextLog)
        try? FileManager.default.removeItem(atPath: nextLogPath)  // a stray from an earlier crash
        let (log, _) = try WriteAheadLog.open(path: nextLogPath)
        manifest.generation = generation
        manifest.logGeneration = nextLog
        manifest.segments = segments.map {
            Manifest.Segment(fileName: ($0.reader.path as NSString).lastPathComponent, count: $0.ids.count, live: $0.live)
        }
        try manifest.write(toDirectory: directory)
        let oldLog = Self.logPath(directory, state.manifest.logGeneration)
        state.manifest = manifest
        state.segments = segments
        state.log = log
        try? FileManager.default.removeItem(atPath: oldLog)
    }
}
