import Foundation
import MilvusProto
import SearchCore
import Synchronization

/// A ``VectorIndex`` (and ``AsyncVectorIndex``) whose vectors live in a Milvus
/// collection, reached over gRPC: encoders, keyword analysis and ranking stay
/// in-process, and the vectors move to a server that scales out (shards,
/// replicas and query nodes, on a cluster).
///
/// ```swift
/// let index = try await MilvusIndex.open(
///     MilvusCollection(name: "photos", dimension: 512, metric: .cosine, index: .hnsw(m: 16, efConstruction: 200)),
///     configuration: try MilvusConfiguration(uri: "http://127.0.0.1:19530"))
/// try await index.add(vectors, ids: ids)
/// let hits = try await index.search(query, k: 10, filter: AllowList(inStock))
/// ```
///
/// How the ``VectorIndex`` contract maps onto Milvus:
/// - Identifiers are Milvus `INT64` primary keys: a ``VectorID`` bit-cast to
///   `Int64`, so every `UInt64` survives the round trip.
/// - Adding is an upsert, so re-adding an identifier replaces its vector (and
///   clears its scalar fields; ``upsert(_:ids:fields:)`` sets them). A batch
///   that names an identifier twice keeps the last row.
/// - Writes are acknowledged only when the server's status says so; a failed
///   call throws and may have been applied in part, so write again (an upsert
///   is idempotent).
/// - Reads use Strong consistency: a search or count sees every acknowledged
///   write, from this process or another.
/// - Distances: Milvus's `L2` is already squared; `IP` and `COSINE` come back
///   as similarities and are turned into distances as `1 − score`, as
///   ``Metric`` defines them.
/// - Filters: ``AllowList``, ``DenyList`` and ``MilvusPredicate`` are pushed
///   down as expressions. Any other ``SearchFilter`` is applied to the hits
///   the server returns, asking for more (up to 16384, Milvus's largest k)
///   until `k` pass: with such a filter, a search may return fewer than `k`
///   hits when fewer than k of the server's 16384 nearest pass it.
/// - `k` is at most 16384 (Milvus's limit); HNSW's `ef` is raised to `k`.
/// - The synchronous requirements block their thread until the server
///   answers; from async code, call the `async` methods.
public final class MilvusIndex: VectorIndex, AsyncVectorIndex {
    /// The collection's layout.
    public let collection: MilvusCollection
    /// How searches explore the index.
    public let searchParameters: MilvusSearchParameters
    /// Where the server is.
    public var configuration: MilvusConfiguration { connection.configuration }

    let connection: MilvusConnection
    private let lastCount = Mutex(0)

    /// The number of components of every vector.
    public var dimension: Int { collection.dimension }
    /// How vectors are compared.
    public var metric: Metric { collection.metric }

    /// Milvus's largest `k` (and largest number of ids a query returns at once).
    public static let maxK = 16_384
    /// Rows sent in one insert or upsert call.
    static let rowsPerWrite = 2_000

    init(collection: MilvusCollection, searchParameters: MilvusSearchParameters, connection: MilvusConnection) {
        self.collection = collection
        self.searchParameters = searchParameters
        self.connection = connection
    }

    /// Stops the connection; later calls fail with ``SearchError/Code/io``.
    public func close() { connection.close() }

    // MARK: count

    /// The exact number of vectors (a `count(*)` query under Strong consistency).
    ///
    /// - Complexity: one round trip; the server counts every live row.
    public func exactCount() async throws(SearchError) -> Int {
        var request = Milvus_Proto_Milvus_QueryRequest()
        request.collectionName = collection.name
        request.expr = ""
        request.outputFields = ["count(*)"]
        request.consistencyLevel = .strong
        request.useDefaultConsistency = false
        if let db = configuration.database { request.dbName = db }
        let response = try await reloading { () async throws(SearchError) in
            let response = try await connection.call("Query(count)", idempotent: true) { [request] service, metadata, options in
                try await service.query(request, metadata: metadata, options: options)
            }
            try response.status.check("Query(count)", collection: collection.name)
            return response
        }
        guard let column = response.fieldsData.first, case .scalars(let scalars)? = column.field,
            case .longData(let longs)? = scalars.data, let value = longs.data.first
        else {
            throw SearchError(.corruptData, "Milvus answered count(*) on '\(collection.name)' without an INT64 count")
        }
        let count = Int(value)
        lastCount.withLock { $0 = count }
        return count
    }

    /// The number of live vectors, asked of the server (blocking, Strong
    /// consistency). A property cannot throw: when the server cannot be
    /// reached it returns the last count it saw. Prefer ``exactCount()``.
    public var count: Int {
        (try? BlockingBridge.shared.wait { () async throws(SearchError) in try await self.exactCount() })
            ?? lastCount.withLock { $0 }
    }
}
