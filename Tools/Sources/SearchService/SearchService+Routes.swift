import Foundation
import HTTPTypes
import Hummingbird
import MultimodalSearch
import NIOCore
import Ranking
import SearchCore

/// One route of the API: every route the router serves comes from
/// ``SearchService/routes``, and the OpenAPI document is checked against it.
struct Route: Sendable {
    var method: HTTPRequest.Method
    /// The path in OpenAPI's template syntax (`/v1/items/{id}`).
    var path: String
    /// Needs an API key.
    var writes: Bool
    /// Counts against the concurrency limit.
    var gated: Bool
    var handler: @Sendable (SearchService, Request, RouteContext) async throws(ServiceError) -> Response
}

/// What a handler knows besides the request.
struct RouteContext: Sendable {
    var parameters: Parameters
    var started: ContinuousClock.Instant
    var deadline: ContinuousClock.Instant

    func id() throws(ServiceError) -> VectorID {
        guard let text = parameters.get("id"), let value = UInt64(text) else {
            throw .badRequest("the item id in the path must be an unsigned integer")
        }
        return VectorID(value)
    }

    func checkDeadline() throws(ServiceError) {
        if ContinuousClock.now > deadline { throw .deadlineExceeded }
    }
}

extension SearchService {
    /// Every route, in the order the OpenAPI document lists them.
    static let routes: [Route] = [
        Route(method: .post, path: "/v1/search", writes: false, gated: true) { s, r, c throws(ServiceError) in try await s.search(r, c) },
        Route(method: .post, path: "/v1/items", writes: true, gated: true) { s, r, c throws(ServiceError) in try await s.addItems(r, c) },
        Route(method: .get, path: "/v1/items/{id}", writes: false, gated: false) { s, r, c throws(ServiceError) in try s.getItem(c) },
        Route(method: .delete, path: "/v1/items/{id}", writes: true, gated: true) { s, r, c throws(ServiceError) in try await s.deleteItem(c) },
        Route(method: .get, path: "/v1/items/{id}/picture", writes: false, gated: false) { s, r, c throws(ServiceError) in try s.picture(c) },
        Route(method: .post, path: "/v1/events", writes: false, gated: true) { s, r, c throws(ServiceError) in try await s.events(r, c) },
        Route(method: .get, path: "/v1/collection", writes: false, gated: false) { s, r, c throws(ServiceError) in try s.describe() },
        Route(method: .get, path: "/healthz", writes: false, gated: false) { s, r, c throws(ServiceError) in
            SearchService.json([UInt8](#"{"status":"ok"}"#.utf8))
        },
        Route(method: .get, path: "/readyz", writes: false, gated: false) { s, r, c throws(ServiceError) in
            s.isStopping
                ? SearchService.json([UInt8](#"{"status":"draining"}"#.utf8), status: .serviceUnavailable)
                : SearchService.json([UInt8](#"{"status":"ok"}"#.utf8))
        },
        Route(method: .get, path: "/metrics", writes: false, gated: false) { s, r, c throws(ServiceError) in
            s.metrics.collectionItems.record(s.collection.count)
            return SearchService.bytes(s.metrics.render(), type: "text/plain; version=0.0.4; charset=utf-8")
        },
        Route(method: .get, path: "/openapi.json", writes: false, gated: false) { s, r, c throws(ServiceError) in
            SearchService.json(OpenAPIDocument.json)
        },
        Route(method: .get, path: "/", writes: false, gated: false) { s, r, c throws(ServiceError) in
            SearchService.bytes(Array(s.configuration.page.utf8), type: "text/html; charset=utf-8")
        },
    ]

    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: NoRouteMiddleware())
        if let origin = configuration.corsOrigin {
            router.add(
                middleware: CORSMiddleware(
                    allowOrigin: .custom(origin), allowHeaders: [.contentType, .authorization, Self.apiKeyHeader],
                    allowMethods: [.get, .post, .delete, .options]))
        }
        for route in Self.routes {
            let hummingbirdPath = RouterPath(route.path.replacingOccurrences(of: "{id}", with: ":id"))
            router.on(hummingbirdPath, method: route.method) { [self] request, context in
                await handle(route, request, context)
            }
        }
        return router
    }

    static let apiKeyHeader = HTTPField.Name("X-API-Key")!

    /// Authorisation, admission, deadline, errors as JSON, and metrics around a handler.
    private func handle(_ route: Route, _ request: Request, _ context: BasicRequestContext) async -> Response {
        let started = ContinuousClock.now
        let routeContext = RouteContext(parameters: context.parameters, started: started, deadline: started + configuration.deadline)
        var turn: AdmissionGate.Turn?
        let response: Response
        do throws(ServiceError) {
            if route.writes, !keys.accepts(Self.presentedKey(request.headers)) {
                metrics.rejected("unauthorized")
                throw .unauthorized
            }
            if route.gated {
                switch await gate.enter() {
                case .success(let t): turn = t
                case .failure(let refusal):
                    metrics.rejected(refusal == .waitedTooLong ? "queue_wait" : "overloaded")
                    throw .overloaded(Self.message(refusal, gate))
                }
                metrics.inflight.increment()
                try routeContext.checkDeadline()
            }
            response = try await route.handler(self, request, routeContext)
        } catch {
            if error.code == "deadlineExceeded" { metrics.rejected("deadline") }
            if error.status == .contentTooLarge { metrics.rejected("too_large") }
            response = Self.error(error)
        }
        if let turn {
            metrics.inflight.decrement()
            gate.leave(turn)
        }
        metrics.request(route: route.path, status: response.status.code, duration: .now - started)
        return response
    }

    static func message(_ refusal: AdmissionGate.Refusal, _ gate: AdmissionGate) -> String {
        let wait = gate.maxWait.map { "\(ServiceMetrics.nanoseconds($0) / 1_000_000) ms" } ?? "the deadline"
        switch refusal {
        case .queueFull: return "\(gate.limit) requests are being served and \(gate.queueLimit) are waiting; retry later"
        case .expectedWaitTooLong: return "\(gate.limit) requests are being served and the wait for a turn would exceed \(wait); retry later"
        case .waitedTooLong: return "no turn came within \(wait); retry later"
        }
    }

    static func presentedKey(_ headers: HTTPFields) -> String? {
        if let key = headers[apiKeyHeader] { return key }
        if let authorization = headers[.authorization], authorization.lowercased().hasPrefix("bearer ") {
            return String(authorization.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    // MARK: - Responses

    static func json(_ body: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        bytes(body, type: "application/json", status: status)
    }

    static func bytes(_ body: [UInt8], type: String, status: HTTPResponse.Status = .ok, extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: type]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func error(_ error: ServiceError) -> Response {
        var extra: HTTPFields = [:]
        if error.retryAfter { extra[.retryAfter] = "1" }
        return bytes(error.body, type: "application/json", status: error.status, extra: extra)
    }

    /// The request body, refused past the configured limit.
    func body(_ request: Request) async throws(ServiceError) -> [UInt8] {
        var request = request
        if let length = request.headers[.contentLength].flatMap(Int.init), length > configuration.maxBodyBytes {
            throw ServiceError(.contentTooLarge, "payloadTooLarge", "the body has \(length) bytes; the limit is \(configuration.maxBodyBytes)")
        }
        do {
            let buffer = try await request.collectBody(upTo: configuration.maxBodyBytes)
            return Array(buffer.readableBytesView)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw ServiceError(.contentTooLarge, "payloadTooLarge", "the body is larger than the limit of \(configuration.maxBodyBytes) bytes")
        } catch {
            throw ServiceError(.badRequest, "invalidArgument", "cannot read the request body: \(error)")
        }
    }

    /// Runs blocking work (encoders, disk writes) off the cooperative thread pool.
    func offload<T: Sendable>(_ body: @escaping @Sendable () throws(SearchError) -> T) async throws(ServiceError) -> T {
        try await QueryEmbedder.alone(body).get()
    }
}

/// Turns the router's "no such route" into the service's JSON error.
struct NoRouteMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            let code = error.status == .methodNotAllowed ? "methodNotAllowed" : (error.status == .notFound ? "notFound" : "invalidArgument")
            return SearchService.error(
                ServiceError(error.status, code, "no route for \(request.method.rawValue) \(request.uri.path)"))
        }
    }
}

/// Echoes a client's `X-Request-ID` (up to 128 printable ASCII bytes) on the
/// response, whatever the status, so clients and proxies can pair requests
/// with responses (`mms-bench serve` times each request by it).
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    static let header = HTTPField.Name("X-Request-ID")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if let id = request.headers[Self.header], Self.isValid(id) { response.headers[Self.header] = id }
        return response
    }

    static func isValid(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 128 && id.utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }
}
