import Foundation
import Testing

@testable import SearchService

@Suite struct OpenAPITests {
    static let methods = ["get", "post", "put", "delete", "patch", "head", "options"]

    /// (method, path) of every operation the document lists.
    static func documented(_ document: [String: Any]) -> Set<String> {
        var out: Set<String> = []
        for (path, item) in document["paths"] as? [String: Any] ?? [:] {
            for method in methods where (item as? [String: Any])?[method] != nil { out.insert("\(method.uppercased()) \(path)") }
        }
        return out
    }

    @Test func theDocumentListsExactlyTheRoutes() throws {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json)) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        let routes = Set(SearchService.routes.map { "\($0.method.rawValue) \($0.path)" })
        #expect(Self.documented(document) == routes)
        // Every write route declares its key; no other does.
        for route in SearchService.routes {
            let operation = ((document["paths"] as? [String: Any])?[route.path] as? [String: Any])?[route.method.rawValue.lowercased()] as? [String: Any]
            #expect((operation?["security"] != nil) == route.writes, "\(route.method) \(route.path)")
        }
    }

    @Test func everyDocumentedRouteIsServedAndNoOther() async throws {
        let server = try await RunningService.start()
        let served = try await server.request("GET", "/openapi.json")
        #expect(served.status == 200)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(served.body)) as? [String: Any])
        let documented = Self.documented(document)
        for path in (document["paths"] as? [String: Any] ?? [:]).keys {
            let concrete = path.replacingOccurrences(of: "{id}", with: "1")
            for method in ["GET", "POST", "DELETE", "PUT", "PATCH"] {
                let reply = try await server.request(method, concrete, body: Array("{}".utf8), contentType: "application/json")
                let routed = !(reply.errorMessage?.hasPrefix("no route for") ?? false)
                #expect(routed == documented.contains("\(method) \(path)"), "\(method) \(concrete): \(reply.status) \(reply.text)")
            }
        }
        try await server.stop()
    }

    @Test func healthReadinessCollectionAndPage() async throws {
        let server = try await RunningService.start()
        #expect(try await server.request("GET", "/healthz").object["status"] as? String == "ok")
        #expect(try await server.request("GET", "/readyz").status == 200)
        let collection = try await server.request("GET", "/v1/collection").object
        #expect(collection["count"] as? Int == 5 && collection["keywordIndex"] as? Bool == true)
        #expect((collection["fields"] as? [[String: Any]])?.first?["name"] as? String == "caption")
        #expect(collection["pictureQueries"] as? Bool == false)
        let page = try await server.request("GET", "/")
        #expect(page.status == 200 && page.headers["content-type"]?.hasPrefix("text/html") == true)
        let metrics = try await server.request("GET", "/metrics")
        #expect(metrics.text.contains("mms_collection_items 5") && metrics.text.contains("mms_http_requests_total{"))
        try await server.stop()
    }
}
