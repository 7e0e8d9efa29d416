import Foundation
import SearchCore

extension PersistentIndex {
    /// Adds (or replaces) vectors. Durable when it returns: the batch is one
    /// log record, written and flushed before the index changes. Flushes the
    /// head to a segment when it reaches ``flushThreshold``.
    ///
    /// - Throws: ``SearchError`` for a wrong size, NaN or ±Inf, a zero vector
    ///   under cosine, or an identifier twice in the batch; nothing changes then.
    /// - Complexity: that of ``HNSWIndex/add(_:ids:)`` into the head (the same
    ///   per vector whatever the batch size), plus O(n · `dimension`) to check,
    ///   copy and log n vectors, one durable log commit per call, and one id
    ///   look-up per segment per vector. The call that fills the head to
    ///   ``flushThreshold`` also writes it as a segment (and merges segments
    ///   past ``maximumSegments``).
    public func add(_ vectors: UnsafeBufferPointer<Float>, ids: [VectorID]) throws(SearchError) {
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
            try checkOpen()
            try state.log.append(operation.encoded())
            try state.log.commit()
            try apply(operation)
            return state.head.count >= flushThreshold
        }
        if full { try flush() }
    }

    /// Deletes vectors; durable when it returns. Returns how many were live.
    @discardableResult
    public func remove(_ ids: [VectorID]) throws(SearchError) -> Int {
        try lock.withWriteLock { () throws(SearchError) -> Int in
            try checkOpen()
            let present = Array(Set(ids.filter { id in state.head.contains(id) || state.segments.contains { $0.liveRow(of: id) != nil } }))
                .sorted()
            guard !present.isEmpty else { return 0 }
            let operation = LogOperation.remove(ids: present)
            try state.log.append(operation.encoded())
            try state.log.commit()
            try apply(operation)
            return present.count
        }
    }

    /// Applies a logged operation to the in-memory state (the caller holds the
    /// write lock, or is `init` replaying the log).
    func apply(_ operation: LogOperation) throws(SearchError) {
        switch operation {
        case .add(let ids, let vectors):
            for id in ids { deleteFromSegments(id) }
            do {
                try state.head.add(vectors, ids: ids)
            } catch {
                throw SearchError(.corruptData, "a logged batch of \(ids.count) vectors does not apply to the head", underlying: SendableText(error))
            }
        case .remove(let ids):
            for id in ids { deleteFromSegments(id) }
            _ = try? state.head.remove(ids)
        }
    }

    private func deleteFromSegments(_ id: VectorID) {
        for s in state.segments.indices {
            if let row = state.segments[s].liveRow(of: id) {
                state.segments[s].live.remove(row)
                state.segments[s].liveCount -= 1
            }
        }
    }

    /// Writes the head as a new segment and starts a new log.
    ///
    /// Order, so a crash at any point loses nothing: the segment file is
    /// written and flushed; an empty next log is created; the manifest naming
    /// both (and the segments' current deletions) replaces the old one; then
    /// the old log is removed. Until the manifest switch, the old manifest and
    /// log still describe everything.
    public func flush() throws(SearchError) {
        let tooMany = try lock.withWriteLock { () throws(SearchError) -> Bool in
            try checkOpen()
            var manifest = state.manifest
            let nextGeneration = manifest.generation + 1
            var segments = state.segments
            if state.head.count > 0, let segment = try writeSegment(state.head, generation: nextGeneration) {
                segments.append(segment)
            }
            try switchManifest(generation: nextGeneration, segments: segments, manifest: &manifest)
            state.head = try HNSWIndex(dimension: dimension, metric: metric, configuration: configuration)
            return state.segments.count > maximumSegments
        }
        if tooMany { try compactSegments() }
    }

    /// Rebuilds every segment's live vectors into one new segment, drops the
    /// deleted ones, and removes the old files, giving their disk and memory
    /// back. The head is flushed first.
    public func compact() throws(SearchError) {
        try flush()
        try compactSegments()
    }

    /// Merges every segment into one (see ``compact()``), leaving the head alone.
    func compactSegments() throws(SearchError) {
        try lock.withWriteLock { () throws(SearchError) in
            try checkOpen()
            var manifest = state.manifest
            let nextGeneration = manifest.generation + 1
            let merged = try HNSWIndex(dimension: dimension, metric: metric, configuration: configuration)
            let batch = 4096
            var ids: [VectorID] = []
            var rows = [Float](repeating: 0, count: batch * dimension)
            func add() throws(SearchError) {
                do {
                    try rows.withUnsafeBufferPointer { try merged.add(UnsafeBufferPointer(rebasing: $0[0..<(ids.count * dimension)]), ids: ids) }
                } catch {
                    throw SearchError(.corruptData, "a segment holds a vector that cannot be re-added", underlying: SendableText(error))
                }
                ids.removeAll(keepingCapacity: true)
            }
            for segment in state.segments {
                for row in 0..<segment.graph.count where segment.live.isLive(row) {
                    rows.withUnsafeMutableBufferPointer { segment.graph.vector(row, into: $0.baseAddress! + ids.count * dimension) }
                    ids.append(segment.graph.id(row))
                    if ids.count == batch { try add() }
                }
            }
            if !ids.isEmpty { try add() }
            let segments = try writeSegment(merged, generation: nextGeneration).map { [$0] } ?? []
            let old = state.segments.map(\.graph.reader.path)
            try switchManifest(generation: nextGeneration, segments: segments, manifest: &manifest)
            for path in old { try? FileManager.default.removeItem(atPath: path) }
        }
    }

    /// Writes `graph` as segment `generation` and opens it; `nil` when it has no nodes.
    private func writeSegment(_ graph: HNSWIndex, generation: UInt64) throws(SearchError) -> LoadedSegment? {
        guard let (writer, liveRows) = graph.segment(reorder: reordersRows, blockRows: levelZeroBlockRows) else { return nil }
        let path = directory + "/" + Self.segmentName(generation)
        try writer.write(to: path)
        var live = LiveSet(allLive: liveRows.count)
        for (row, isLive) in liveRows.enumerated() where !isLive { live.remove(row) }
        // Just written from memory: the structure is checked, the bytes need not be read back.
        let reader = try SegmentReader(path: path, verification: .structure)
        return LoadedSegment(graph: try SegmentGraph(reader, kernels: kernels), live: live, liveCount: live.liveCount)
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
        manifest.segments = segments.map { Manifest.Segment(fileName: $0.fileName, count: $0.graph.count, live: $0.live) }
        try manifest.write(toDirectory: directory)
        let oldLog = Self.logPath(directory, state.manifest.logGeneration)
        state.manifest = manifest
        state.segments = segments
        state.log = log
        try? FileManager.default.removeItem(atPath: oldLog)
    }
}
