import SearchCore

extension LexicalIndex {
    /// When a write is durable.
    public enum Durability: Sendable, Hashable {
        /// When the call returns: its log records are flushed to the device first.
        case immediate
        /// At the next ``LexicalIndex/commit()``, flush, or immediate write:
        /// the records are written to the log but not flushed to the device.
        case deferred
    }

    /// Adds (or replaces) a document; durable when it returns.
    ///
    /// `fields` maps field names to text; fields left out are empty. A
    /// document already present with this id is replaced.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/invalidArgument`` for a field
    ///   name the index does not have; `.io` when the log cannot be written
    ///   (the document is then not added).
    /// - Complexity: O(the document's terms), plus one durable log write;
    ///   every ``Options/headDocuments`` documents, a flush of the head.
    public func add(id: VectorID, fields: [String: String]) throws(SearchError) {
        try add([(id, fields)])
    }

    /// Adds (or replaces) documents in one log write; durable when it returns,
    /// or with `.deferred`, at the next ``commit()``.
    ///
    /// Bulk loading in many calls with `.deferred` and one ``commit()`` at
    /// the end pays for one flush to the device instead of one per call; a
    /// crash before the commit may lose any of those documents (never a part
    /// of one), so acknowledge them only after it.
    ///
    /// - Throws: as ``add(id:fields:)``; nothing is added when the log write
    ///   throws. When the batch fills the head, the flush that follows may
    ///   throw too: the documents are then in the log and searchable.
    public func add(
        _ documents: [(id: VectorID, fields: [String: String])], durability: Durability = .immediate
    ) throws(SearchError) {
        var records: [(VectorID, [(field: Int, text: String)])] = []
        records.reserveCapacity(documents.count)
        for (id, fields) in documents {
            var resolved: [(field: Int, text: String)] = []
            for (name, text) in fields {
                guard let f = fieldIndex[name] else {
                    throw SearchError(
                        .invalidArgument, "the keyword index has no field '\(name)'; its fields are \(configuration.fields.map(\.name))")
                }
                resolved.append((f, text))
            }
            resolved.sort { $0.field < $1.field }
            records.append((id, resolved))
        }
        try state.withLock { (state) throws(SearchError) in
            for (id, fields) in records { state.log.append(LexicalLogRecord.add(id, fields).encoded()) }
            try state.log.commit(sync: durability == .immediate)
            for (id, fields) in records { Self.apply(add: id, fields: fields, to: &state, analyzers: analyzers) }
            // Only after the whole batch: a flush starts a new log, and every record of the batch is in the old one.
            if state.head.documentCount >= options.headDocuments { try flush(&state) }
        }
    }

    /// Makes every write made so far durable (those added with `.deferred`).
    ///
    /// - Throws: `.io` when the log cannot be flushed to the device.
    public func commit() throws(SearchError) {
        try state.withLock { (state) throws(SearchError) in try state.log.commit() }
    }

    /// Deletes a document; durable when it returns. Returns whether it was present.
    public func remove(id: VectorID) throws(SearchError) -> Bool {
        try state.withLock { (state) throws(SearchError) -> Bool in
            guard state.locations[id] != nil else { return false }
            state.log.append(LexicalLogRecord.remove(id).encoded())
            try state.log.commit()
            return Self.apply(remove: id, to: &state)
        }
    }

    /// Writes the head as a segment and starts a new log (writes are already
    /// durable without it; a flush makes opening faster and frees the head's memory).
    public func flush() throws(SearchError) {
        try state.withLock { (state) throws(SearchError) in try flush(&state) }
    }

    /// Merges all segments and the head into one segment without deleted documents.
    ///
    /// - Complexity: O(every posting and position in the index).
    public func merge() throws(SearchError) {
        try state.withLock { (state) throws(SearchError) in try merge(&state) }
    }
}
