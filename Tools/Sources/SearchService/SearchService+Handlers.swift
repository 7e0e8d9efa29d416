import Foundation
import HTTPTypes
import Hummingbird
import MultimodalSearch
import Ranking
import SearchCore

extension SearchService {
    /// The parts of a search request, whatever its content type.
    struct SearchInput {
        var request = SearchRequest()
        var picture: [UInt8]?
    }

    /// `POST /v1/search`.
    func search(_ request: Request, _ context: RouteContext) async throws(ServiceError) -> Response {
        let input = try await searchInput(request)
        let k = input.request.k ?? 10
        guard (1...1000).contains(k) else { throw .badRequest("k must be between 1 and 1000, got \(k)") }
        let text = input.request.text.flatMap { $0.isEmpty ? nil : $0 }
        guard text != nil || input.picture != nil else {
            throw .badRequest("a search needs \"text\", a picture (\"image\" as base64, an image/* body or a multipart part named image), or both")
        }
        if let text, text.utf8.count > 4096 { throw .badRequest("the query text has \(text.utf8.count) bytes; the limit is 4096") }

        var embeddings: [String: [Float]] = [:]
        var cacheOutcome: String?
        if let text {
            let (byRetriever, outcome) = try await embedder.embed(text: text, deadline: context.deadline).get()
            embeddings.merge(byRetriever) { a, _ in a }
            cacheOutcome = outcome.rawValue
        }
        if let picture = input.picture {
            embeddings[SearchSource.image] = try await embedder.embed(picture: picture, deadline: context.deadline).get()
        }
        try context.checkDeadline()

        let query = SearchQuery(
            text: text, image: input.picture.map { .encoded($0) }, k: k, userID: input.request.userID,
            fusion: try Wire.fusion(input.request.fusion, weights: input.request.weights ?? [:]),
            minScores: input.request.minScores ?? [:], minRelevance: input.request.minRelevance, embeddings: embeddings)
        let results: [SearchResult]
        do throws(SearchError) {
            if let filter = input.request.filter, !(filter.equals ?? [:]).isEmpty || !(filter.prefix ?? [:]).isEmpty {
                let allowed = try collection.items().filter { Self.matches($0, filter) }.map(\.id)
                results = try await engine.search(query, filter: AllowList(allowed))
            } else {
                results = try await engine.search(query)
            }
        } catch {
            throw ServiceError(error)
        }
        let body = SearchResponse(
            results: results.enumerated().map { ResultBody($1, rank: $0 + 1) },
            tookMs: Wire.milliseconds(.now - context.started), queryCache: cacheOutcome)
        return Self.json(try Wire.encode(body))
    }

    private func searchInput(_ request: Request) async throws(ServiceError) -> SearchInput {
        let type = (request.headers[.contentType] ?? "application/json").lowercased()
        let bytes = try await body(request)
        var input = SearchInput()
        let query = request.uri.queryParameters
        if type.hasPrefix("application/json") {
            input.request = try Wire.decode(SearchRequest.self, bytes)
            if let image = input.request.image { input.picture = try Wire.base64(image, what: "\"image\"") }
        } else if type.hasPrefix("image/") {
            input.picture = bytes
            input.request.text = query.get("text")
            input.request.k = query.get("k").flatMap { Int($0) }
            input.request.userID = query.get("userID")
        } else if type.hasPrefix("multipart/form-data") {
            guard let boundary = Multipart.boundary(request.headers[.contentType] ?? "") else {
                throw .badRequest("a multipart/form-data body needs a boundary parameter")
            }
            for part in try Multipart.parse(bytes, boundary: boundary) {
                let value = String(decoding: part.body, as: UTF8.self)
                switch part.name {
                case "image": input.picture = part.body
                case "text": input.request.text = value
                case "k":
                    guard let k = Int(value) else { throw .badRequest("the multipart field k must be an integer") }
                    input.request.k = k
                case "userID": input.request.userID = value
                default: break
                }
            }
        } else {
            throw ServiceError(
                .unsupportedMediaType, "unsupportedMediaType",
                "send application/json, image/jpeg, image/png or multipart/form-data, not \(type)")
        }
        if let picture = input.picture, picture.isEmpty { input.picture = nil }
        return input
    }

    static func matches(_ item: CatalogItem, _ filter: SearchRequest.Filter) -> Bool {
        func values(_ key: String) -> [String] {
            switch key {
            case "category": item.category.map { [$0] } ?? []
            case "tag": item.tags
            case "caption": item.caption.map { [$0] } ?? []
            default: item.metadata[key].map { [$0] } ?? []
            }
        }
        return (filter.equals ?? [:]).allSatisfy { key, value in values(key).contains(value) }
            && (filter.prefix ?? [:]).allSatisfy { key, value in values(key).contains { $0.hasPrefix(value) } }
    }

    /// `POST /v1/items`: pictures stored durably first, then the items
    /// ingested (on disk when this answers).
    func addItems(_ request: Request, _ context: RouteContext) async throws(ServiceError) -> Response {
        let type = (request.headers[.contentType] ?? "application/json").lowercased()
        guard type.hasPrefix("application/json") else {
            throw ServiceError(.unsupportedMediaType, "unsupportedMediaType", "POST /v1/items takes application/json")
        }
        let payload = try Wire.decode(ItemsRequest.self, try await body(request))
        guard !payload.items.isEmpty else { throw .badRequest("\"items\" is empty") }
        guard payload.items.count <= 1000 else { throw .badRequest("at most 1000 items per request, got \(payload.items.count)") }
        var items: [CatalogItem] = []
        var skipped: [ItemsResponse.Skipped] = []
        for new in payload.items {
            var item = CatalogItem(
                id: VectorID(new.id), caption: new.caption, category: new.category, tags: new.tags ?? [], metadata: new.metadata ?? [:])
            if let image = new.image {
                do throws(ServiceError) {
                    let bytes = try Wire.base64(image, what: "the picture of item \(new.id)")
                    let store = pictures
                    item.image = .file(try await offload { () throws(SearchError) in try store.save(bytes) })
                } catch {
                    skipped.append(.init(id: new.id, error: ErrorDetail(code: error.code, message: error.message)))
                    continue
                }
            }
            items.append(item)
        }
        try context.checkDeadline()
        let engine = self.engine
        let ready = items
        let report = try await offload { () throws(SearchError) in try engine.ingest(ready) }
        metrics.collectionItems.record(collection.count)
        for (id, error) in report.skipped {
            let e = ServiceError(error)
            skipped.append(.init(id: id.rawValue, error: ErrorDetail(code: e.code, message: e.message)))
        }
        let body = ItemsResponse(
            indexed: report.indexed.map(\.rawValue), skipped: skipped, tookMs: Wire.milliseconds(.now - context.started))
        return Self.json(try Wire.encode(body))
    }

    /// `GET /v1/items/{id}`.
    func getItem(_ context: RouteContext) throws(ServiceError) -> Response {
        let id = try context.id()
        guard let item = try item(id) else { throw .notFound("no item \(id)") }
        return Self.json(try Wire.encode(ItemBody(item)))
    }

    private func item(_ id: VectorID) throws(ServiceError) -> CatalogItem? {
        do throws(SearchError) { return try collection.item(id) } catch { throw ServiceError(error) }
    }

    /// `DELETE /v1/items/{id}`.
    func deleteItem(_ context: RouteContext) async throws(ServiceError) -> Response {
        let id = try context.id()
        let engine = self.engine
        let removed = try await offload { () throws(SearchError) in try engine.remove([id]) }
        metrics.collectionItems.record(collection.count)
        return Self.json(Array(#"{"removed":\#(removed)}"#.utf8))
    }

    /// `GET /v1/items/{id}/picture`: only files inside the picture roots.
    func picture(_ context: RouteContext) throws(ServiceError) -> Response {
        let id = try context.id()
        guard let item = try item(id) else { throw .notFound("no item \(id)") }
        guard case .file(let path)? = item.image else { throw .notFound("item \(id) has no stored picture") }
        guard let servable = pictures.servable(path) else {
            throw .notFound("item \(id)'s picture is outside the folders this service serves (see --picture-root)")
        }
        guard let data = FileManager.default.contents(atPath: servable) else { throw .notFound("item \(id)'s picture cannot be read") }
        let bytes = [UInt8](data)
        guard let kind = PictureStore.kind(bytes) else { throw .notFound("item \(id)'s picture is not a JPEG or PNG file") }
        return Self.bytes(bytes, type: kind.mime, extra: [.cacheControl: "max-age=3600"])
    }

    /// `POST /v1/events`.
    func events(_ request: Request, _ context: RouteContext) async throws(ServiceError) -> Response {
        let bytes = try await body(request)
        let list: [EventBody]
        if let many = try? JSONDecoder().decode(EventsRequest.self, from: Data(bytes)) {
            list = many.events
        } else {
            list = [try Wire.decode(EventBody.self, bytes)]
        }
        guard list.count <= 10_000 else { throw .badRequest("at most 10000 events per request") }
        var events: [EngagementEvent] = []
        let now = Date()
        for e in list {
            events.append(EngagementEvent(item: VectorID(e.itemID), user: e.userID.map(UserID.init), kind: try Wire.kind(e.kind), time: now))
        }
        let engine = self.engine
        let ready = events
        try await offload { () throws(SearchError) in try engine.record(ready) }
        return Self.json(Array(#"{"recorded":\#(events.count)}"#.utf8))
    }

    /// `GET /v1/collection`.
    func describe() throws(ServiceError) -> Response {
        let body = CollectionBody(
            count: collection.count,
            fields: collection.schema.fields.map { .init(name: $0.name, encoder: $0.encoder, dimension: $0.dimension) },
            keywordIndex: engine.keywordIndex != nil, pictureQueries: engine.configuration.imageEncoder != nil,
            textToPicture: engine.configuration.crossModalTextEncoder != nil,
            calibrated: (engine.calibration?.models.keys).map { $0.sorted() } ?? [])
        return Self.json(try Wire.encode(body))
    }
}
