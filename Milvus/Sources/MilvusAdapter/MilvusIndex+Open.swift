import Foundation
import MilvusProto
import SearchCore
import SwiftProtobuf

extension MilvusIndex {
    /// Opens `collection` on the server, creating it (schema, vector index,
    /// Strong consistency) when it does not exist, and waits until the server
    /// has loaded it for search.
    ///
    /// - Throws: ``SearchError/Code/unsupportedFormat`` when a collection of
    ///   that name exists with another layout (dimension, metric, a missing or
    ///   differently typed field): drop it or choose another name;
    ///   ``SearchError/Code/io`` when the server cannot be reached or does not
    ///   load the collection within ``MilvusConfiguration/loadDeadline``.
    public static func open(
        _ collection: MilvusCollection, configuration: MilvusConfiguration,
        searchParameters: MilvusSearchParameters = MilvusSearchParameters()
    ) async throws(SearchError) -> MilvusIndex {
        try collection.validate()
        let connection = try MilvusConnection(configuration)
        do {
            var opened = collection
            if try await exists(collection.name, connection) {
                opened.index = try await verify(collection, connection)
            } else {
                try await create(collection, connection)
            }
            try await load(collection.name, connection)
            return MilvusIndex(collection: opened, searchParameters: searchParameters, connection: connection)
        } catch {
            connection.close()
            throw error
        }
    }

    /// ``open(_:configuration:searchParameters:)`` for synchronous callers:
    /// blocks the calling thread until the collection is loaded.
    public convenience init(
        _ collection: MilvusCollection, configuration: MilvusConfiguration,
        searchParameters: MilvusSearchParameters = MilvusSearchParameters()
    ) throws(SearchError) {
        let opened = try BlockingBridge.shared.wait { () async throws(SearchError) in
            try await MilvusIndex.open(collection, configuration: configuration, searchParameters: searchParameters)
        }
        self.init(collection: opened.collection, searchParameters: opened.searchParameters, connection: opened.connection)
    }

    /// Drops the collection `name` and everything in it; returns whether it existed.
    @discardableResult
    public static func drop(_ name: String, configuration: MilvusConfiguration) async throws(SearchError) -> Bool {
        try MilvusCollection.checkName(name, "collection name")
        let connection = try MilvusConnection(configuration)
        defer { connection.close() }
        guard try await exists(name, connection) else { return false }
        var request = Milvus_Proto_Milvus_DropCollectionRequest()
        request.collectionName = name
        if let db = configuration.database { request.dbName = db }
        let status = try await connection.call("DropCollection", idempotent: true) { [request] service, metadata, options in
            try await service.dropCollection(request, metadata: metadata, options: options)
        }
        try status.check("DropCollection", collection: name)
        return true
    }

    private static func exists(_ name: String, _ connection: MilvusConnection) async throws(SearchError) -> Bool {
        var request = Milvus_Proto_Milvus_HasCollectionRequest()
        request.collectionName = name
        if let db = connection.configuration.database { request.dbName = db }
        let response = try await connection.call("HasCollection", idempotent: true) { [request] service, metadata, options in
            try await service.hasCollection(request, metadata: metadata, options: options)
        }
        try response.status.check("HasCollection", collection: name)
        return response.value
    }

    private static func create(_ collection: MilvusCollection, _ connection: MilvusConnection) async throws(SearchError) {
        var schema = Milvus_Proto_Schema_CollectionSchema()
        schema.name = collection.name
        schema.autoID = false
        schema.enableDynamicField = false
        var id = Milvus_Proto_Schema_FieldSchema()
        id.name = MilvusCollection.idField
        id.isPrimaryKey = true
        id.dataType = .int64
        id.autoID = false
        var vector = Milvus_Proto_Schema_FieldSchema()
        vector.name = MilvusCollection.vectorField
        vector.dataType = .floatVector
        vector.typeParams = [keyValue("dim", String(collection.dimension))]
        schema.fields = [id, vector]
        for field in collection.fields {
            var f = Milvus_Proto_Schema_FieldSchema()
            f.name = field.name
            f.nullable = true
            switch field.type {
            case .string(let maxLength):
                f.dataType = .varChar
                f.typeParams = [keyValue("max_length", String(maxLength))]
            case .int64: f.dataType = .int64
            case .double: f.dataType = .double
            case .bool: f.dataType = .bool
            }
            schema.fields.append(f)
        }
        var request = Milvus_Proto_Milvus_CreateCollectionRequest()
        request.collectionName = collection.name
        if let db = connection.configuration.database { request.dbName = db }
        do {
            request.schema = try schema.serializedBytes()
        } catch {
            throw SearchError(.invalidArgument, "cannot encode the schema of '\(collection.name)': \(error)", underlying: error)
        }
        request.shardsNum = Int32(collection.shards ?? 1)
        request.consistencyLevel = .strong
        let status = try await connection.call("CreateCollection", idempotent: false) { [request] service, metadata, options in
            try await service.createCollection(request, metadata: metadata, options: options)
        }
        try status.check("CreateCollection", collection: collection.name)

        var index = Milvus_Proto_Milvus_CreateIndexRequest()
        index.collectionName = collection.name
        if let db = connection.configuration.database { index.dbName = db }
        index.fieldName = MilvusCollection.vectorField
        index.indexName = MilvusCollection.vectorField
        index.extraParams = [
            keyValue("index_type", collection.index.typeName),
            keyValue("metric_type", collection.metricName),
            keyValue("params", collection.index.buildParams),
        ]
        let indexStatus = try await connection.call("CreateIndex", idempotent: true) { [index] service, metadata, options in
            try await service.createIndex(index, metadata: metadata, options: options)
        }
        try indexStatus.check("CreateIndex", collection: collection.name)
    }

    /// Checks an existing collection against `collection`; returns the index
    /// kind the server actually has.
    private static func verify(_ collection: MilvusCollection, _ connection: MilvusConnection) async throws(SearchError)
        -> MilvusIndexKind
    {
        var request = Milvus_Proto_Milvus_DescribeCollectionRequest()
        request.collectionName = collection.name
        if let db = connection.configuration.database { request.dbName = db }
        let described = try await connection.call("DescribeCollection", idempotent: true) { [request] service, metadata, options in
            try await service.describeCollection(request, metadata: metadata, options: options)
        }
        try described.status.check("DescribeCollection", collection: collection.name)
        let fields = Dictionary(described.schema.fields.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        func mismatch(_ what: String) -> SearchError {
            SearchError(
                .unsupportedFormat,
                "Milvus collection '\(collection.name)' exists with another layout: \(what). Open it with its own layout, drop it (MilvusIndex.drop), or choose another name."
            )
        }
        guard let id = fields[MilvusCollection.idField], id.isPrimaryKey, id.dataType == .int64 else {
            throw mismatch("no INT64 primary key '\(MilvusCollection.idField)'")
        }
        guard let vector = fields[MilvusCollection.vectorField], vector.dataType == .floatVector else {
            throw mismatch("no FLOAT_VECTOR field '\(MilvusCollection.vectorField)'")
        }
        let dim = vector.typeParams.first { $0.key == "dim" }.flatMap { Int($0.value) }
        guard dim == collection.dimension else {
            throw mismatch("vectors of \(dim.map(String.init) ?? "unknown") components, not \(collection.dimension)")
        }
        for field in collection.fields {
            guard let existing = fields[field.name] else { throw mismatch("no field '\(field.name)'") }
            let expected: Milvus_Proto_Schema_DataType =
                switch field.type {
                case .string: .varChar
                case .int64: .int64
                case .double: .double
                case .bool: .bool
                }
            guard existing.dataType == expected else {
                throw mismatch("field '\(field.name)' is \(existing.dataType), not \(field.type.name)")
            }
        }

        var indexRequest = Milvus_Proto_Milvus_DescribeIndexRequest()
        indexRequest.collectionName = collection.name
        indexRequest.fieldName = MilvusCollection.vectorField
        if let db = connection.configuration.database { indexRequest.dbName = db }
        let indexes = try await connection.call("DescribeIndex", idempotent: true) { [indexRequest] service, metadata, options in
            try await service.describeIndex(indexRequest, metadata: metadata, options: options)
        }
        try indexes.status.check("DescribeIndex", collection: collection.name)
        guard let description = indexes.indexDescriptions.first(where: { $0.fieldName == MilvusCollection.vectorField })
        else {
            throw mismatch("no index on '\(MilvusCollection.vectorField)'")
        }
        let params = Dictionary(description.params.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        let metric = params["metric_type"]?.uppercased()
        guard metric == collection.metricName else {
            throw mismatch("metric \(metric ?? "unknown"), not \(collection.metricName)")
        }
        switch params["index_type"]?.uppercased() {
        case "HNSW": return .hnsw()
        case "IVF_FLAT": return .ivfFlat()
        case "FLAT": return .flat
        case let other:
            throw mismatch("index type \(other ?? "unknown"); the adapter searches HNSW, IVF_FLAT and FLAT")
        }
    }

    /// Loads the collection for search and waits until the server says it is loaded.
    static func load(_ name: String, _ connection: MilvusConnection) async throws(SearchError) {
        var request = Milvus_Proto_Milvus_LoadCollectionRequest()
        request.collectionName = name
        if let db = connection.configuration.database { request.dbName = db }
        let status = try await connection.call("LoadCollection", idempotent: true) { [request] service, metadata, options in
            try await service.loadCollection(request, metadata: metadata, options: options)
        }
        try status.check("LoadCollection", collection: name)
        let clock = ContinuousClock()
        let deadline = clock.now + connection.configuration.loadDeadline
        var state = Milvus_Proto_Milvus_GetLoadStateRequest()
        state.collectionName = name
        if let db = connection.configuration.database { state.dbName = db }
        while true {
            let response = try await connection.call("GetLoadState", idempotent: true) { [state] service, metadata, options in
                try await service.getLoadState(state, metadata: metadata, options: options)
            }
            try response.status.check("GetLoadState", collection: name)
            if response.state == .loaded { return }
            guard clock.now < deadline else {
                throw SearchError(
                    .io,
                    "Milvus did not load '\(name)' within \(connection.configuration.loadDeadline) (state \(response.state)); check the query nodes' memory, or raise MilvusConfiguration.loadDeadline"
                )
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    static func keyValue(_ key: String, _ value: String) -> Milvus_Proto_Common_KeyValuePair {
        var pair = Milvus_Proto_Common_KeyValuePair()
        pair.key = key
        pair.value = value
        return pair
    }
}

extension MilvusIndex {
    /// Runs a read or delete; when the server says the collection is not
    /// loaded (released, or a restarted server), loads it and runs it once more.
    func reloading<T: Sendable>(_ body: () async throws(SearchError) -> T) async throws(SearchError) -> T {
        do {
            return try await body()
        } catch where error.message.contains(Milvus_Proto_Common_Status.notLoadedMarker) {
            try await Self.load(collection.name, connection)
            return try await body()
        }
    }
}
