import Foundation
import SearchCore
import StoragePrimitives

extension LexicalIndex {
    /// Reads the manifest, maps the segments, replays the log; creates an empty index when there is none.
    static func open(
        directory: String, configuration: Configuration, options: Options, analyzers: [TextAnalyzer]
    ) throws(SearchError) -> (State, Recovery) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw SearchError(.io, "cannot create the keyword index directory \(directory): \(error.localizedDescription)")
        }
        let encoded: [UInt8]
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            encoded = Array(try encoder.encode(configuration))
        } catch {
            throw SearchError(.invalidArgument, "cannot encode the keyword index configuration: \(error)")
        }
        let manifestPath = directory + "/" + LexicalManifest.fileName
        var manifest: LexicalManifest
        if SystemCalls.exists(manifestPath) {
            manifest = try LexicalManifest(decoding: try SystemCalls.readFile(manifestPath, limit: 1 << 30), path: manifestPath)
            let stored = try? JSONDecoder().decode(Configuration.self, from: Data(manifest.configuration))
            guard let stored else {
                throw SearchError(.corruptData, "keyword index manifest \(manifestPath) holds a configuration this build cannot read")
            }
            guard stored == configuration else {
                throw SearchError(
                    .invalidArgument,
                    "the keyword index in \(directory) was created with fields \(stored.fields.map(\.name)) and BM25 \(stored.bm25); open it with the same configuration, or create a new index")
            }
        } else {
            manifest = LexicalManifest(generation: 1, logGeneration: 1, nextSegment: 1, configuration: encoded, segments: [])
            _ = try LexicalLog.create(path: directory + "/" + LexicalManifest.logName(1))
            try manifest.write(to: directory)
        }
        var segments: [LexicalSegment] = []
        var locations: [VectorID: Location] = [:]
        for (s, entry) in manifest.segments.enumerated() {
            let path = directory + "/" + entry.fileName
            let segment = try LexicalSegment(
                SegmentBytes(mapping: try MappedFile(path: path)), name: path, expectedFields: configuration.fields.count)
            guard segment.documentCount == entry.documentCount else {
                throw SearchError(
                    .corruptData, "keyword segment \(path) holds \(segment.documentCount) documents; the manifest says \(entry.documentCount)")
            }
            for d in 0..<segment.documentCount where entry.live[d >> 3] & (1 << (d & 7)) != 0 {
                locations[segment.id(d)] = Location(segment: Int32(s), doc: UInt32(d))
            }
            segments.append(segment)
        }
        let logPath = directory + "/" + LexicalManifest.logName(manifest.logGeneration)
        let (log, records, logRecovery): (LexicalLog, [[UInt8]], LexicalLog.Recovery)
        if SystemCalls.exists(logPath) {
            (log, records, logRecovery) = try LexicalLog.open(path: logPath, dropDamage: options.dropDamagedLogRecords)
        } else {
            // A crash between the manifest naming a new log and its creation cannot happen (the log is
            // created first), so a missing log is damage — unless the caller accepts losing the head.
            guard options.dropDamagedLogRecords else {
                throw SearchError(.corruptData, "keyword log \(logPath) named by the manifest is missing")
            }
            (log, records, logRecovery) = (try LexicalLog.create(path: logPath), [], .init(records: 0, bytesDropped: 0))
        }
        var state = State(
            manifest: manifest, segments: segments, head: LexicalSegmentBuilder(fieldCount: configuration.fields.count),
            locations: locations, log: log)
        for (i, payload) in records.enumerated() {
            guard let record = LexicalLogRecord(decoding: payload, fieldCount: configuration.fields.count) else {
                throw SearchError(.corruptData, "keyword log \(logPath): record \(i) is malformed though its checksum holds")
            }
            switch record {
            case .add(let id, let fields): apply(add: id, fields: fields, to: &state, analyzers: analyzers)
            case .remove(let id): _ = apply(remove: id, to: &state)
            }
        }
        removeUnreferencedFiles(directory: directory, manifest: manifest)
        return (
            state,
            Recovery(recordsReplayed: logRecovery.records, bytesDropped: logRecovery.bytesDropped, damagedAt: logRecovery.damagedAt)
        )
    }

    /// Removes segments and logs the manifest does not name, and temporary files (left by a crash).
    static func removeUnreferencedFiles(directory: String, manifest: LexicalManifest) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        let keep = Set(manifest.segments.map(\.fileName) + [LexicalManifest.logName(manifest.logGeneration), LexicalManifest.fileName])
        for name in names where !keep.contains(name) {
            let ours =
                (name.hasPrefix("seg-") && name.hasSuffix(".lex")) || (name.hasPrefix("log-") && name.hasSuffix(".lxl"))
                || name.hasSuffix(".tmp")
            if ours { _ = unlink(directory + "/" + name) }
        }
    }

    /// Adds an analysed document to the head (replacing a live one with the same id).
    static func apply(add id: VectorID, fields: [(field: Int, text: String)], to state: inout State, analyzers: [TextAnalyzer]) {
        _ = apply(remove: id, to: &state)
        let doc = UInt32(state.head.documentCount)
        state.head.beginDocument(id: id)
        var scratch = state.scratch
        for (field, text) in fields {
            state.head.addText(field: field, text, analyzer: analyzers[field], scratch: &scratch)
        }
        state.scratch = scratch
        if state.headLive.count * 8 <= Int(doc) { state.headLive.append(0) }
        state.headLive[Int(doc >> 3)] |= 1 << (doc & 7)
        state.locations[id] = Location(segment: -1, doc: doc)
        state.headSegment = nil
    }

    /// Marks a document deleted; whether it was live.
    static func apply(remove id: VectorID, to state: inout State) -> Bool {
        guard let location = state.locations.removeValue(forKey: id) else { return false }
        let d = Int(location.doc)
        if location.segment < 0 {
            state.headLive[d >> 3] &= ~(1 << UInt8(d & 7))
            state.headSegment = nil
        } else {
            state.manifest.segments[Int(location.segment)].live[d >> 3] &= ~(1 << UInt8(d & 7))
            state.deletionsSinceManifest = true
        }
        return true
    }

    /// Writes the head as a segment (if it has documents), a new manifest and a new log; merges when there are too many segments.
    func flush(_ state: inout State) throws(SearchError) {
        guard !state.head.isEmpty || state.deletionsSinceManifest else { return }
        var next = state.manifest
        var newSegment: LexicalSegment? = nil
        if !state.head.isEmpty {
            let name = LexicalManifest.segmentName(next.nextSegment)
            let path = directory + "/" + name
            try AtomicFile.replace(path, with: [state.head.encode()])
            newSegment = try LexicalSegment(SegmentBytes(mapping: try MappedFile(path: path)), name: path)
            next.segments.append(.init(fileName: name, documentCount: state.head.documentCount, live: state.headLive))
            next.nextSegment += 1
        }
        try commit(next, segments: state.segments + (newSegment.map { [$0] } ?? []), to: &state)
        if state.segments.count > options.maximumSegments { try merge(&state) }
    }

    /// Makes `next` (with one more generation and a new, empty log) the index's manifest, then drops what it no longer names.
    private func commit(_ next: LexicalManifest, segments: [LexicalSegment], to state: inout State) throws(SearchError) {
        var next = next
        next.generation += 1
        next.logGeneration += 1
        let log = try LexicalLog.create(path: directory + "/" + LexicalManifest.logName(next.logGeneration))
        try next.write(to: directory)
        state.manifest = next
        state.segments = segments
        state.log = log
        state.head = LexicalSegmentBuilder(fieldCount: configuration.fields.count)
        state.headLive = []
        state.headSegment = nil
        state.deletionsSinceManifest = false
        var locations: [VectorID: Location] = [:]
        locations.reserveCapacity(state.locations.count)
        for (s, entry) in next.segments.enumerated() {
            let segment = segments[s]
            for d in 0..<segment.documentCount where entry.live[d >> 3] & (1 << (d & 7)) != 0 {
                locations[segment.id(d)] = Location(segment: Int32(s), doc: UInt32(d))
            }
        }
        state.locations = locations
        Self.removeUnreferencedFiles(directory: directory, manifest: next)
    }

    /// Merges every segment (and the head) into one, without deleted documents.
    func merge(_ state: inout State) throws(SearchError) {
        var builder = LexicalSegmentBuilder(fieldCount: configuration.fields.count)
        var remap: [[UInt32]] = []  // per segment: old doc → new doc, or UInt32.max when deleted
        var views: [SegmentView] = []
        for (s, segment) in state.segments.enumerated() {
            views.append(SegmentView(segment: segment, live: state.manifest.segments[s].live))
        }
        if !state.head.isEmpty {
            let bytes = SegmentBytes(copying: state.head.encode())
            views.append(SegmentView(segment: try LexicalSegment(bytes, name: "head"), live: state.headLive))
        }
        for view in views {
            var map = [UInt32](repeating: .max, count: view.segment.documentCount)
            var lengths = [UInt32](repeating: 0, count: configuration.fields.count)
            for d in 0..<view.segment.documentCount where view.isLive(UInt32(d)) {
                map[d] = UInt32(builder.documentCount)
                for f in lengths.indices { lengths[f] = view.segment.length(field: f, doc: d) }
                builder.appendDocument(id: view.segment.id(d), lengths: lengths)
            }
            remap.append(map)
        }
        var positions: [UInt32] = []
        for (s, view) in views.enumerated() {
            let segment = view.segment
            for t in 0..<segment.termCount {
                guard let info = segment.entry(t) else { continue }
                let term = segment.termBytes(t)
                let cursor = PostingCursor(clause: 0, segment: segment, info: info, idfWeight: 1, c0: 1, c1: 0)
                while cursor.doc != PostingCursor.end {
                    let target = remap[s][Int(cursor.doc)]
                    if target != .max {
                        positions.removeAll(keepingCapacity: true)
                        cursor.positions(into: &positions)
                        positions.withUnsafeBufferPointer {
                            builder.addPosting(field: info.field, term: term, doc: target, positions: $0)
                        }
                    }
                    cursor.next()
                }
            }
        }
        var next = state.manifest
        var segments: [LexicalSegment] = []
        next.segments = []
        if !builder.isEmpty {
            let name = LexicalManifest.segmentName(next.nextSegment)
            let path = directory + "/" + name
            try AtomicFile.replace(path, with: [builder.encode()])
            segments.append(try LexicalSegment(SegmentBytes(mapping: try MappedFile(path: path)), name: path))
            var live = [UInt8](repeating: 0xFF, count: (builder.documentCount + 7) / 8)
            if builder.documentCount % 8 != 0 { live[live.count - 1] = UInt8((1 << (builder.documentCount % 8)) - 1) }
            next.segments = [.init(fileName: name, documentCount: builder.documentCount, live: live)]
            next.nextSegment += 1
        }
        try commit(next, segments: segments, to: &state)
    }
}
