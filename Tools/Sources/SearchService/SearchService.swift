import Foundation
import Hummingbird
import Logging
import MultimodalSearch
import SearchCore
import ServiceLifecycle
import Synchronization

/// A self-hosted search service over one ``MultimodalSearch/SearchCollection``:
/// an HTTP API (search by text, picture or both; add and delete items;
/// engagement events; the collection's description; health, readiness and
/// Prometheus metrics; its OpenAPI document; a search page), with the
/// encoder work of concurrent queries micro-batched, query embeddings
/// cached, and limits that keep it answering under overload.
///
/// ```swift
/// let service = SearchService(engine: engine, collection: collection, configuration: ServiceConfiguration(port: 8080))
/// try await service.run { port in print("listening on http://127.0.0.1:\(port)") }   // until SIGTERM or shutdown()
/// ```
///
/// Everything a write route acknowledges is on disk when the response is
/// sent. On SIGTERM or SIGINT (or ``shutdown()``) it stops accepting
/// connections, lets requests in flight finish, then checkpoints and closes
/// the collection.
public final class SearchService: Sendable {
    /// The engine that searches and ingests.
    public let engine: SearchEngine
    /// The collection the engine writes to; closed when the service stops.
    public let collection: SearchCollection
    /// The service's knobs.
    public let configuration: ServiceConfiguration
    let logger: Logger
    let metrics = ServiceMetrics()
    let embedder: QueryEmbedder
    let gate: AdmissionGate
    let keys: APIKeys
    let pictures: PictureStore
    private let group = Mutex<ServiceGroup?>(nil)
    private let stopping = Atomic<Bool>(false)

    /// A service over `collection` through `engine` (which must have been made with that collection).
    public init(engine: SearchEngine, collection: SearchCollection, configuration: ServiceConfiguration, logger: Logger? = nil) {
        precondition(engine.collection === collection, "the engine must search the service's collection")
        self.engine = engine
        self.collection = collection
        self.configuration = configuration
        self.logger = logger ?? Logger(label: "mms.serve")
        embedder = QueryEmbedder(engine: engine, configuration: configuration, metrics: metrics)
        gate = AdmissionGate(
            limit: max(1, configuration.maxConcurrent), queueLimit: max(0, configuration.maxQueued), maxWait: configuration.maxQueueWait)
        keys = APIKeys(configuration.apiKeys)
        pictures = PictureStore(collectionDirectory: collection.directory, pictureRoots: configuration.pictureRoots)
        metrics.collectionItems.record(collection.count)
    }

    /// Whether graceful shutdown has begun (`/readyz` answers 503 from then on).
    public var isStopping: Bool { stopping.load(ordering: .relaxed) }

    /// Serves until SIGTERM, SIGINT or ``shutdown()``: then drains requests
    /// in flight and checkpoints and closes the collection.
    ///
    /// - Parameter onListening: called once with the bound port (useful with port 0).
    /// - Throws: what binding or closing the collection throws.
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let application = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "mms"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        let watcher = ShutdownWatcher { [self] in stopping.store(true, ordering: .relaxed) }
        let serviceGroup = ServiceGroup(
            configuration: .init(
                // Shut down in reverse order: the watcher first (readiness turns
                // 503), then the server, which drains requests in flight.
                services: [.init(service: application), .init(service: watcher, successTerminationBehavior: .ignore)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        group.withLock { $0 = serviceGroup }
        defer { group.withLock { $0 = nil } }
        var failure: (any Error)?
        do {
            try await serviceGroup.run()
        } catch {
            failure = error
        }
        stopping.store(true, ordering: .relaxed)
        do throws(SearchError) {
            try collection.close()
            logger.info("collection checkpointed and closed")
        } catch {
            logger.error("closing the collection failed: \(error)")
            if failure == nil { failure = error }
        }
        if let failure { throw failure }
    }

    /// Begins graceful shutdown, as SIGTERM does.
    public func shutdown() async {
        stopping.store(true, ordering: .relaxed)
        let serviceGroup = group.withLock { $0 }
        await serviceGroup?.triggerGracefulShutdown()
    }
}

/// A service that does nothing until graceful shutdown begins, then marks
/// the search service as stopping (so `/readyz` turns 503 while requests drain).
private struct ShutdownWatcher: Service {
    let onShutdown: @Sendable () -> Void

    func run() async throws {
        try? await gracefulShutdown()
        onShutdown()
    }
}
