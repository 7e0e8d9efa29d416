import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import MilvusProto
import SearchCore

/// One gRPC channel to a Milvus server: the client, the task that runs its
/// connections, and the policy every call follows (deadline, retries while the
/// transport reconnects, the server's status turned into ``SearchError``).
final class MilvusConnection: Sendable {
    typealias Service = Milvus_Proto_Milvus_MilvusService.Client<HTTP2ClientTransport.Posix>

    let configuration: MilvusConfiguration
    private let client: GRPCClient<HTTP2ClientTransport.Posix>
    private let service: Service
    private let runner: Task<Void, Never>
    private let metadata: Metadata

    /// Milvus's own limit on a gRPC message (64 MiB by default on the server).
    static let maxMessageBytes = 64 << 20

    init(_ configuration: MilvusConfiguration) throws(SearchError) {
        self.configuration = configuration
        let transport: HTTP2ClientTransport.Posix
        do {
            let target: any ResolvableTarget
            if configuration.host.contains(":") {
                target = ResolvableTargets.IPv6.ipv6(address: configuration.host, port: configuration.port)
            } else {
                target = ResolvableTargets.DNS.dns(host: configuration.host, port: configuration.port)
            }
            transport = try HTTP2ClientTransport.Posix(
                target: target,
                transportSecurity: .plaintext,
                config: .defaults { config in
                    // Reconnect quickly after the server comes back.
                    config.backoff.initial = .milliseconds(100)
                    config.backoff.max = .seconds(2)
                    config.http2.maxFrameSize = 1 << 20
                })
        } catch {
            throw SearchError(.invalidArgument, "cannot make a gRPC transport for \(configuration.uri): \(error)", underlying: error)
        }
        let client = GRPCClient(transport: transport)
        self.client = client
        self.service = Service(wrapping: client)
        // The connections run on the blocking bridge's executor, so a caller
        // blocked in a synchronous requirement never starves them.
        self.runner = Task(executorPreference: BlockingBridge.shared) {
            try? await client.runConnections()
        }
        var metadata = Metadata()
        if let token = configuration.token {
            metadata.addString(Data(token.utf8).base64EncodedString(), forKey: "authorization")
        }
        if let database = configuration.database {
            metadata.addString(database, forKey: "dbname")
        }
        self.metadata = metadata
    }

    deinit {
        client.beginGracefulShutdown()
    }

    /// Stops accepting calls; calls in flight finish.
    func close() {
        client.beginGracefulShutdown()
    }

    /// Sends one call under the configured deadline. Idempotent calls are
    /// sent again while the server is unreachable, up to
    /// ``MilvusConfiguration/retries`` times.
    func call<Response: Sendable>(
        _ name: String, idempotent: Bool,
        _ body: @Sendable (Service, Metadata, CallOptions) async throws -> Response
    ) async throws(SearchError) -> Response {
        var options = CallOptions.defaults
        options.timeout = configuration.deadline
        options.maxRequestMessageBytes = Self.maxMessageBytes
        options.maxResponseMessageBytes = Self.maxMessageBytes
        var attempt = 0
        while true {
            do {
                return try await body(service, metadata, options)
            } catch let error as RPCError {
                if error.code == .unavailable, idempotent, attempt < configuration.retries {
                    attempt += 1
                    try? await Task.sleep(for: .milliseconds(200 << (attempt - 1)))
                    continue
                }
                throw Self.translate(error, call: name, configuration: configuration, attempts: attempt + 1)
            } catch is CancellationError {
                throw SearchError(.cancelled, "Milvus \(name) was cancelled")
            } catch {
                throw SearchError(.io, "Milvus \(name) at \(configuration.uri) failed: \(error)", underlying: error)
            }
        }
    }

    static func translate(_ error: RPCError, call: String, configuration: MilvusConfiguration, attempts: Int) -> SearchError {
        let tries = attempts > 1 ? " after \(attempts) attempts" : ""
        switch error.code {
        case .unavailable:
            return SearchError(
                .io,
                "Milvus at \(configuration.uri) is unreachable (\(call)\(tries): \(error.message)); check that the server runs and listens there. A write that failed this way may or may not have been applied: write it again (writes are upserts).",
                underlying: error)
        case .deadlineExceeded:
            return SearchError(
                .io,
                "Milvus \(call) did not finish within \(configuration.deadline) at \(configuration.uri); the server may be overloaded, or raise MilvusConfiguration.deadline. A write may or may not have been applied: write it again.",
                underlying: error)
        case .cancelled:
            return SearchError(.cancelled, "Milvus \(call) was cancelled", underlying: error)
        case .unauthenticated, .permissionDenied:
            return SearchError(
                .invalidArgument,
                "Milvus at \(configuration.uri) refused \(call): \(error.message); set MilvusConfiguration.token (user:password or an API key)",
                underlying: error)
        case .resourceExhausted:
            return SearchError(
                .resourceLimit, "Milvus \(call): \(error.message); send smaller batches", underlying: error)
        case .unimplemented:
            return SearchError(
                .unsupportedFormat, "the server at \(configuration.uri) does not implement \(call); is it a Milvus 2.x server?",
                underlying: error)
        default:
            return SearchError(.io, "Milvus \(call) at \(configuration.uri) failed: \(error.code): \(error.message)", underlying: error)
        }
    }
}

extension Milvus_Proto_Common_Status {
    static let notLoadedMarker = "is not loaded for search"

    /// The collection was released (a restarted Lite server forgets loads;
    /// an operator may release one): Milvus 2.3+'s code 101, or Lite's message.
    var isNotLoaded: Bool {
        let text = reason.lowercased()
        return code == 101 || text.contains("call load()") || text.contains("not loaded")
    }

    /// Throws the server's refusal as a ``SearchError``.
    func check(_ call: String, collection: String) throws(SearchError) {
        if code == 0 && errorCode == .success { return }
        let reason = self.reason.isEmpty ? "error code \(code)" : self.reason
        // Milvus 2.3+ codes: 100 collection not found.
        if code == 100 || errorCode == .collectionNotExists || reason.lowercased().contains("collection not found") {
            throw SearchError(.notFound, "Milvus \(call): collection '\(collection)' does not exist (\(reason))")
        }
        if isNotLoaded {
            throw SearchError(
                .io, "Milvus \(call): collection '\(collection)' \(Self.notLoadedMarker) (\(reason)); it is loaded again on the next call")
        }
        throw SearchError(.invalidArgument, "Milvus refused \(call) on '\(collection)': \(reason)")
    }
}
