import MilvusProto
import SearchCore

extension MilvusIndex {
    /// Adds `ids.count` vectors laid end to end, replacing any with the same
    /// identifier (their scalar fields become null). Returns once the server
    /// has acknowledged every row.
    ///
    /// - Throws: ``SearchError/Code/dimensionMismatch`` or
    ///   ``SearchError/Code/invalidVector`` before anything is sent;
    ///   ``SearchError/Code/io`` when the server fails mid-way, in which case
    ///   any subset may have been written: add them again.
    /// - Complexity: one upsert call per 2000 rows.
    public func add(_ vectors: [Float], ids: [VectorID]) async throws(SearchError) {
        try await upsert(vectors, ids: ids, fields: [:])
    }

    /// Adds or replaces vectors with values for the collection's scalar fields:
    /// `fields[name]` holds one value per row (`nil` for null); a field not
    /// named is null for every row.
    ///
    /// ```swift
    /// try await index.upsert(vectors, ids: [1, 2], fields: ["category": [.string("shoes"), nil]])
    /// ```
    ///
    /// - Throws: ``SearchError/Code/invalidArgument`` for an unknown field, a
    ///   column of the wrong length or a value of the wrong type, and what
    ///   ``add(_:ids:)`` throws.
    public func upsert(_ vectors: [Float], ids: [VectorID], fields: [String: [MilvusValue?]]) async throws(SearchError) {
        try validate(vectors, ids: ids)
        for (name, column) in fields {
            guard let field = collection.fields.first(where: { $0.name == name }) else {
                throw SearchError(
                    .invalidArgument,
                    "the collection has no scalar field '\(name)'; declare it in MilvusCollection.fields")
            }
            guard column.count == ids.count else {
                throw SearchError(.invalidArgument, "field '\(name)' has \(column.count) values for \(ids.count) rows")
            }
            for value in column {
                guard let value else { continue }
                switch (field.type, value) {
                case (.string(let maxLength), .string(let s)):
                    guard s.utf8.count <= maxLength else {
                        throw SearchError(
                            .invalidArgument, "a value of '\(name)' has \(s.utf8.count) bytes; the field holds at most \(maxLength)")
                    }
                case (.int64, .int64), (.bool, .bool): break
                case (.double, .double(let d)):
                    guard d.isFinite else { throw SearchError(.invalidArgument, "field '\(name)' cannot hold \(d)") }
                default:
                    throw SearchError(.invalidArgument, "field '\(name)' is \(field.type.name); it cannot hold a \(value.typeName)")
                }
            }
        }
        // Milvus keeps both rows when one batch names an id twice: keep the last.
        var last: [VectorID: Int] = [:]
        for (row, id) in ids.enumerated() { last[id] = row }
        let rows = ids.indices.filter { last[ids[$0]] == $0 }
        var start = 0
        while start < rows.count {
            let chunk = Array(rows[start..<min(start + Self.rowsPerWrite, rows.count)])
            try await upsertRows(chunk, vectors: vectors, ids: ids, fields: fields)
            start += chunk.count
        }
    }

    private func upsertRows(_ rows: [Int], vectors: [Float], ids: [VectorID], fields: [String: [MilvusValue?]])
        async throws(SearchError)
    {
        var request = Milvus_Proto_Milvus_UpsertRequest()
        request.collectionName = collection.name
        if let db = configuration.database { request.dbName = db }
        request.numRows = UInt32(rows.count)

        var idColumn = Milvus_Proto_Schema_FieldData()
        idColumn.type = .int64
        idColumn.fieldName = MilvusCollection.idField
        var longs = Milvus_Proto_Schema_LongArray()
        longs.data = rows.map { Int64(bitPattern: ids[$0].rawValue) }
        idColumn.scalars.longData = longs

        var vectorColumn = Milvus_Proto_Schema_FieldData()
        vectorColumn.type = .floatVector
        vectorColumn.fieldName = MilvusCollection.vectorField
        var floats = Milvus_Proto_Schema_FloatArray()
        floats.data.reserveCapacity(rows.count * dimension)
        for row in rows { floats.data.append(contentsOf: vectors[(row * dimension)..<((row + 1) * dimension)]) }
        vectorColumn.vectors.dim = Int64(dimension)
        vectorColumn.vectors.floatVector = floats

        request.fieldsData = [idColumn, vectorColumn]
        for field in collection.fields {
            request.fieldsData.append(Self.column(field, rows: rows, values: fields[field.name]))
        }

        let result = try await connection.call("Upsert", idempotent: true) { [request] service, metadata, options in
            try await service.upsert(request, metadata: metadata, options: options)
        }
        try result.status.check("Upsert", collection: collection.name)
        // An acknowledgement must cover every row sent.
        guard result.errIndex.isEmpty, result.upsertCnt == Int64(rows.count) else {
            throw SearchError(
                .io,
                "Milvus acknowledged \(result.upsertCnt) of \(rows.count) rows upserted into '\(collection.name)' (\(result.errIndex.count) failed); write them again"
            )
        }
    }

    /// One scalar column: values for `rows`, null where absent.
    private static func column(_ field: MilvusField, rows: [Int], values: [MilvusValue?]?) -> Milvus_Proto_Schema_FieldData {
        var data = Milvus_Proto_Schema_FieldData()
        data.fieldName = field.name
        data.validData = rows.map { values?[$0] != nil }
        switch field.type {
        case .string:
            data.type = .varChar
            var strings = Milvus_Proto_Schema_StringArray()
            strings.data = rows.map { row in if case .string(let s)? = values?[row] { s } else { "" } }
            data.scalars.stringData = strings
        case .int64:
            data.type = .int64
            var longs = Milvus_Proto_Schema_LongArray()
            longs.data = rows.map { row in if case .int64(let v)? = values?[row] { v } else { 0 } }
            data.scalars.longData = longs
        case .double:
            data.type = .double
            var doubles = Milvus_Proto_Schema_DoubleArray()
            doubles.data = rows.map { row in if case .double(let v)? = values?[row] { v } else { 0 } }
            data.scalars.doubleData = doubles
        case .bool:
            data.type = .bool
            var bools = Milvus_Proto_Schema_BoolArray()
            bools.data = rows.map { row in if case .bool(let v)? = values?[row] { v } else { false } }
            data.scalars.boolData = bools
        }
        return data
    }

    /// Deletes vectors; returns how many of `ids` were present (asked of the
    /// server under Strong consistency just before deleting).
    ///
    /// - Complexity: one query and one delete call per 16384 identifiers.
    @discardableResult
    public func remove(_ ids: [VectorID]) async throws(SearchError) -> Int {
        let unique = Array(Set(ids))
        var removed = 0
        var start = 0
        while start < unique.count {
            let chunk = unique[start..<min(start + Self.maxK, unique.count)]
            start += chunk.count
            let present = try await presentIDs(chunk)
            guard !present.isEmpty else { continue }
            var request = Milvus_Proto_Milvus_DeleteRequest()
            request.collectionName = collection.name
            if let db = configuration.database { request.dbName = db }
            request.expr = "\(MilvusCollection.idField) in \(MilvusPredicate.idList(present))"
            request.consistencyLevel = .strong
            let result = try await reloading { () async throws(SearchError) in
                let result = try await connection.call("Delete", idempotent: true) { [request] service, metadata, options in
                    try await service.delete(request, metadata: metadata, options: options)
                }
                try result.status.check("Delete", collection: collection.name)
                return result
            }
            removed += present.count
        }
        return removed
    }

    /// The identifiers among `ids` the collection holds.
    func presentIDs<C: Collection>(_ ids: C) async throws(SearchError) -> [VectorID] where C.Element == VectorID {
        var request = Milvus_Proto_Milvus_QueryRequest()
        request.collectionName = collection.name
        if let db = configuration.database { request.dbName = db }
        request.expr = "\(MilvusCollection.idField) in \(MilvusPredicate.idList(ids))"
        request.outputFields = [MilvusCollection.idField]
        request.consistencyLevel = .strong
        request.useDefaultConsistency = false
        request.queryParams = [Self.keyValue("limit", String(ids.count))]
        let response = try await reloading { () async throws(SearchError) in
            let response = try await connection.call("Query(ids)", idempotent: true) { [request] service, metadata, options in
                try await service.query(request, metadata: metadata, options: options)
            }
            try response.status.check("Query", collection: collection.name)
            return response
        }
        guard let column = response.fieldsData.first(where: { $0.fieldName == MilvusCollection.idField }) else {
            return []
        }
        guard case .scalars(let scalars)? = column.field, case .longData(let longs)? = scalars.data else {
            throw SearchError(.corruptData, "Milvus answered a query on '\(collection.name)' without INT64 ids")
        }
        return longs.data.map { VectorID(UInt64(bitPattern: $0)) }
    }

    /// Checks a batch before anything is sent.
    func validate(_ vectors: [Float], ids: [VectorID]) throws(SearchError) {
        guard vectors.count == ids.count * dimension else {
            throw SearchError(
                .dimensionMismatch,
                "\(vectors.count) floats are not \(ids.count) vectors of \(dimension) components")
        }
        for row in 0..<ids.count {
            var norm: Float = 0
            for value in vectors[(row * dimension)..<((row + 1) * dimension)] {
                guard value.isFinite else {
                    throw SearchError(.invalidVector, "vector \(ids[row]) has a non-finite component (\(value)); nothing was written")
                }
                norm += value * value
            }
            if metric == .cosine, norm == 0 {
                throw SearchError(.invalidVector, "vector \(ids[row]) is zero, which has no cosine; nothing was written")
            }
        }
    }

    // MARK: VectorIndex (blocking)

    /// Adds vectors (blocking until the server acknowledges them); see ``add(_:ids:)-(Float,_)``.
    public func add(_ vectors: UnsafeBufferPointer<Float>, ids: [VectorID]) throws(SearchError) {
        let copy = Array(vectors)
        try BlockingBridge.shared.wait { () async throws(SearchError) in try await self.add(copy, ids: ids) }
    }

    /// Deletes vectors (blocking); see the asynchronous ``remove(_:)``.
    @discardableResult
    public func remove(_ ids: [VectorID]) throws(SearchError) -> Int {
        try BlockingBridge.shared.wait { () async throws(SearchError) in try await self.removeAsync(ids) }
    }

    private func removeAsync(_ ids: [VectorID]) async throws(SearchError) -> Int {
        try await remove(ids)
    }
}

extension MilvusIndex {
    /// Seals the collection's growing segments so the server builds their
    /// vector index (until then Milvus searches new rows exhaustively). Not
    /// needed for durability or visibility: acknowledged writes are already
    /// searched under Strong consistency.
    public func flush() async throws(SearchError) {
        var request = Milvus_Proto_Milvus_FlushRequest()
        request.collectionNames = [collection.name]
        if let db = configuration.database { request.dbName = db }
        let response = try await connection.call("Flush", idempotent: true) { [request] service, metadata, options in
            try await service.flush(request, metadata: metadata, options: options)
        }
        try response.status.check("Flush", collection: collection.name)
    }
}
