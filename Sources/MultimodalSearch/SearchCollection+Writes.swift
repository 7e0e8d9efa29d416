import ANNIndex
import Foundation
import Ranking
import SearchCore

/// One vector field's rows for a write: `ids.count` rows of the field's
/// dimension, laid end to end.
public struct FieldRows: Sendable {
    /// The items the rows belong to.
    public var ids: [VectorID]
    /// `ids.count × dimension` floats.
    public var rows: [Float]

    /// Rows for `ids`.
    public init(ids: [VectorID], rows: [Float]) {
        self.ids = ids
        self.rows = rows
    }
}

extension SearchCollection {
    /// Writes items and their vectors; durable when it returns. Writing an
    /// identifier again replaces the item, and a field it no longer has a
    /// vector for stops finding it.
    ///
    /// - Parameters:
    ///   - items: the items, each identifier once.
    ///   - vectors: by field name, the rows of the items that have a vector
    ///     in that field (an item may have none).
    ///   - keywords: the items' keyword documents, when the collection has a
    ///     keyword index; nil derives each from its item
    ///     (``KeywordDocument/init(item:pictureText:)``). An item without a
    ///     document here, or with an empty one, is not found by keywords.
    /// - Throws: ``SearchCore/SearchError`` — `.invalidArgument` for an
    ///   unknown field, a row for an item not in `items`, a repeated
    ///   identifier or a closed collection; `.dimensionMismatch` and
    ///   `.invalidVector` for rows the field's index would refuse (checked
    ///   before anything is written); `.io` when the disk refuses.
    /// - Complexity: one log commit, then one index write per field:
    ///   O(batch · log n) distance evaluations.
    public func add(_ items: [CatalogItem], vectors: [String: FieldRows], keywords: [KeywordDocument]? = nil) throws(SearchError) {
        var bits = [VectorID: UInt8](minimumCapacity: items.count)
        for item in items {
            guard bits.updateValue(0, forKey: item.id) == nil else {
                throw SearchError(.invalidArgument, "item \(item.id) appears twice in one write")
            }
        }
        for (name, field) in vectors {
            guard let f = schema.fields.firstIndex(where: { $0.name == name }) else {
                throw SearchError(
                    .invalidArgument,
                    "no vector field \"\(name)\" in this collection (fields: \(schema.fields.map(\.name).joined(separator: ", ")))")
            }
            let spec = schema.fields[f]
            guard field.rows.count == field.ids.count * spec.dimension else {
                throw SearchError(
                    .dimensionMismatch,
                    "field \"\(name)\": \(field.rows.count) floats are not \(field.ids.count) rows of \(spec.dimension)")
            }
            for (i, id) in field.ids.enumerated() {
                guard let b = bits[id] else {
                    throw SearchError(.invalidArgument, "field \"\(name)\" has a row for item \(id), which is not in this write")
                }
                guard b & (1 << f) == 0 else { throw SearchError(.invalidArgument, "field \"\(name)\" has two rows for item \(id)") }
                try Self.check(field.rows[(i * spec.dimension)..<((i + 1) * spec.dimension)], metric: spec.metric, field: name, id: id)
                bits[id] = b | (1 << f)
            }
        }
        var documents: [KeywordDocument] = []
        if self.keywords != nil {
            if let keywords {
                for document in keywords where bits[document.id] == nil {
                    throw SearchError(.invalidArgument, "a keyword document for item \(document.id), which is not in this write")
                }
                let given = Set(keywords.filter { !$0.isEmpty }.map(\.id))
                for item in items where !given.contains(item.id) && !KeywordDocument(item: item).isEmpty {
                    throw SearchError(
                        .invalidArgument,
                        "item \(item.id) has a caption, tags or a file name but no keyword document in this write")
                }
                documents = keywords.filter { !$0.isEmpty }
            } else {
                documents = items.map { KeywordDocument(item: $0) }.filter { !$0.isEmpty }
            }
        }
        let stored = items.map { StoredItem(item: $0, vectorFields: bits[$0.id]!) }
        try writer.withLock { _ throws(SearchError) in
            let replaced = try commit(.put(stored)) { s in
                var replaced: [VectorID] = []
                for item in stored {
                    let existed = s.overlay[item.item.id].map { $0 != nil } ?? (s.snapshot.position(of: item.item.id) != nil)
                    if existed { replaced.append(item.item.id) } else { s.count += 1 }
                    s.overlay[item.item.id] = .some(item)
                }
                return replaced
            }
            do throws(SearchError) {
                for (f, spec) in schema.fields.enumerated() {
                    if let field = vectors[spec.name], !field.ids.isEmpty { try indices[f].add(field.rows, ids: field.ids) }
                    let dropped = replaced.filter { bits[$0]! & (1 << f) == 0 && indices[f].contains($0) }
                    if !dropped.isEmpty { try indices[f].remove(dropped) }
                }
                if let index = self.keywords {
                    if !documents.isEmpty { try index.add(documents) }
                    let has = Set(documents.map(\.id))
                    let dropped = replaced.filter { !has.contains($0) && index.contains($0) }
                    if !dropped.isEmpty { try index.remove(dropped) }
                }
            } catch {
                // The items are logged but not all their vectors arrived: take them out again.
                _ = try? removeLocked(items.map(\.id))
                throw error
            }
            try checkpointIfDue()
        }
    }

    /// Removes items and their vectors; durable when it returns. Returns how
    /// many of `ids` were present.
    ///
    /// - Complexity: one log commit and one index write per field.
    @discardableResult
    public func remove(_ ids: [VectorID]) throws(SearchError) -> Int {
        try writer.withLock { _ throws(SearchError) in
            let removed = try removeLocked(ids)
            try checkpointIfDue()
            return removed
        }
    }

    /// Records engagement; durable when it returns, and read by the next
    /// search that ranks with ``engagement``.
    public func record(_ events: [EngagementEvent]) throws(SearchError) {
        guard !events.isEmpty else { return }
        try writer.withLock { _ throws(SearchError) in
            try commit(.engagement(events)) { _ in }
            engagement.record(events)
            try checkpointIfDue()
        }
    }

    /// Flushes every field's head to a segment and writes a new item and
    /// engagement snapshot, so the next open replays nothing.
    ///
    /// - Complexity: O(n) in the items (each is decoded and written again),
    ///   plus each index's flush.
    public func checkpoint() throws(SearchError) {
        try writer.withLock { _ throws(SearchError) in try checkpointLocked() }
    }

    /// Runs a checkpoint if anything was written since the last one, and
    /// closes the files. Later calls do nothing; any other call afterwards
    /// throws `.invalidArgument`.
    public func close() throws(SearchError) {
        try writer.withLock { _ throws(SearchError) in
            let (closed, dirty) = state.withLock { ($0.closed, $0.dirty) }
            guard !closed else { return }
            if dirty { try checkpointLocked() }
            for index in indices { index.close() }
            keywords?.close()
            state.withLock { s in
                s.log.close()
                s.closed = true
            }
        }
    }

    // MARK: - Internals (writer lock held)

    /// Appends one record durably, then applies `update` to the state.
    func commit<R>(_ record: CollectionLogRecord, _ update: (inout State) -> R) throws(SearchError) -> R {
        let log = try state.withLock { s throws(SearchError) in
            guard !s.closed else { throw SearchError(.invalidArgument, "the collection at \(directory) is closed") }
            return s.log
        }
        try log.append(record.encoded())
        try log.commit()
        return state.withLock { s in
            s.dirty = true
            return update(&s)
        }
    }

    func removeLocked(_ ids: [VectorID]) throws(SearchError) -> Int {
        let present = state.withLock { s in
            Array(Set(ids.filter { id in s.overlay[id].map { $0 != nil } ?? (s.snapshot.position(of: id) != nil) }))
        }
        guard !present.isEmpty else { return 0 }
        try commit(.remove(present)) { s in
            for id in present { s.overlay[id] = .some(nil) }
            s.count -= present.count
        }
        for index in indices {
            let indexed = present.filter { index.contains($0) }
            if !indexed.isEmpty { try index.remove(indexed) }
        }
        if let keywords {
            let indexed = present.filter { keywords.contains($0) }
            if !indexed.isEmpty { try keywords.remove(indexed) }
        }
        return present.count
    }

    private func checkpointIfDue() throws(SearchError) {
        if state.withLock({ $0.log.size }) > options.checkpointLogBytes { try checkpointLocked() }
    }

    private func checkpointLocked() throws(SearchError) {
        let (generation, snapshot, overlay) = try state.withLock { s throws(SearchError) in
            guard !s.closed else { throw SearchError(.invalidArgument, "the collection at \(directory) is closed") }
            return (s.generation, s.snapshot, s.overlay)
        }
        for index in indices { try index.flush() }
        try keywords?.flush()
        let all = try Self.merge(snapshot, overlay)
        let files = CollectionFiles(directory: directory)
        let next = generation + 1
        try engagement.write(to: files.path(CollectionFiles.name("engagement-", next, ".snapshot")))
        let (log, _) = try WriteAheadLog.open(path: files.path(CollectionFiles.name("log-", next, ".wal")), policy: options.recoveryPolicy)
        let itemsName = CollectionFiles.name("items-", next, ".snapshot")
        let bytes = ItemSnapshot.encode(all)
        try files.replaceAtomically(itemsName, with: bytes)  // the commit point
        let fresh = try ItemSnapshot(bytes: bytes, path: files.path(itemsName))
        state.withLock { s in
            s.generation = next
            s.snapshot = fresh
            s.overlay = [:]
            s.log = log
            s.dirty = false
        }
        try files.removeOtherGenerations(than: next)
    }

    /// Throws unless a row is one a field's index accepts.
    private static func check(_ row: ArraySlice<Float>, metric: Metric, field: String, id: VectorID) throws(SearchError) {
        var sum: Float = 0
        for v in row {
            guard v.isFinite else {
                throw SearchError(.invalidVector, "field \"\(field)\", item \(id): the vector holds NaN or an infinite component")
            }
            sum += v * v
        }
        if metric == .cosine && sum == 0 {
            throw SearchError(.invalidVector, "field \"\(field)\", item \(id): a zero vector has no direction under cosine")
        }
    }
}
