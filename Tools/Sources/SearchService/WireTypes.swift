import Foundation
import MultimodalSearch
import Ranking
import SearchCore

/// `POST /v1/search` as JSON.
struct SearchRequest: Decodable {
    struct Filter: Decodable {
        var equals: [String: String]?
        var prefix: [String: String]?
    }
    var text: String?
    /// A JPEG or PNG file, base64.
    var image: String?
    var k: Int?
    var filter: Filter?
    var minRelevance: Double?
    var minScores: [String: Double]?
    var fusion: String?
    var weights: [String: Double]?
    var userID: String?
}

/// An item as the service returns it.
struct ItemBody: Encodable {
    var id: UInt64
    var caption: String?
    var category: String?
    var tags: [String]
    var metadata: [String: String]
    var picture: String?

    init(_ item: CatalogItem) {
        id = item.id.rawValue
        caption = item.caption
        category = item.category
        tags = item.tags
        metadata = item.metadata
        if case .file = item.image { picture = "/v1/items/\(item.id.rawValue)/picture" }
    }
}

/// One search result.
struct ResultBody: Encodable {
    var id: UInt64
    var score: Double
    var rank: Int
    var caption: String?
    var category: String?
    var tags: [String]
    var metadata: [String: String]
    var picture: String?
    var explanation: [String: Double]
    var keywordScore: Double?
    var matchedTerms: [String: [String]]

    init(_ r: SearchResult, rank: Int) {
        let item = ItemBody(r.item)
        id = item.id
        score = r.score
        self.rank = rank
        caption = item.caption
        category = item.category
        tags = item.tags
        metadata = item.metadata
        picture = item.picture
        explanation = r.explanation
        keywordScore = r.keywordScore
        matchedTerms = r.matchedTerms
    }
}

struct SearchResponse: Encodable {
    var results: [ResultBody]
    var tookMs: Double
    var queryCache: String?
}

/// `POST /v1/items`.
struct ItemsRequest: Decodable {
    struct NewItem: Decodable {
        var id: UInt64
        var caption: String?
        /// A JPEG or PNG file, base64.
        var image: String?
        var category: String?
        var tags: [String]?
        var metadata: [String: String]?
    }
    var items: [NewItem]
}

struct ErrorDetail: Encodable {
    var code: String
    var message: String
}

struct ItemsResponse: Encodable {
    struct Skipped: Encodable {
        var id: UInt64
        var error: ErrorDetail
    }
    var indexed: [UInt64]
    var skipped: [Skipped]
    var tookMs: Double
}

/// `POST /v1/events`: one event, or `{"events": [...]}`.
struct EventBody: Decodable {
    var userID: String?
    var itemID: UInt64
    var kind: String
}

struct EventsRequest: Decodable {
    var events: [EventBody]
}

struct CollectionBody: Encodable {
    struct Field: Encodable {
        var name: String
        var encoder: String
        var dimension: Int
    }
    var count: Int
    var fields: [Field]
    var keywordIndex: Bool
    var pictureQueries: Bool
    var textToPicture: Bool
    var calibrated: [String]
}

enum Wire {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return e
    }()

    static func encode<T: Encodable>(_ value: T) throws(ServiceError) -> [UInt8] {
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw ServiceError(.internalServerError, "internal", "cannot encode the response: \(error)")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws(ServiceError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch let DecodingError.keyNotFound(key, _) {
            throw .badRequest("the JSON body lacks \"\(key.stringValue)\"")
        } catch let DecodingError.typeMismatch(_, context) {
            throw .badRequest("the JSON body has the wrong type at \(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)")
        } catch {
            throw .badRequest("the body is not the JSON this route takes: \(error)")
        }
    }

    static func base64(_ text: String, what: String) throws(ServiceError) -> [UInt8] {
        let stripped = text.split(separator: ",", maxSplits: 1).count == 2 && text.hasPrefix("data:")
            ? String(text.split(separator: ",", maxSplits: 1)[1]) : text
        guard let data = Data(base64Encoded: stripped, options: .ignoreUnknownCharacters) else {
            throw .badRequest("\(what) is not valid base64")
        }
        return Array(data)
    }

    static func kind(_ name: String) throws(ServiceError) -> EngagementKind {
        switch name {
        case "impression": .impression
        case "click": .click
        case "save": .save
        case "hide": .hide
        case "purchase": .purchase
        default: throw .badRequest("event kind \"\(name)\": use impression, click, save, hide or purchase")
        }
    }

    static func fusion(_ name: String?, weights: [String: Double]) throws(ServiceError) -> ScoreFusion? {
        if name == nil && weights.isEmpty { return nil }
        switch name ?? "rrf" {
        case "rrf": return .reciprocalRank(weights: weights)
        case "minmax": return .weighted(weights: weights, normalization: .minMax)
        case "zscore": return .weighted(weights: weights, normalization: .zScore)
        case "dbsf": return .distributionBased(weights: weights)
        case let other: throw .badRequest("fusion \"\(other)\": use rrf, minmax, zscore or dbsf")
        }
    }

    static func milliseconds(_ d: Duration) -> Double {
        Double(ServiceMetrics.nanoseconds(d)) / 1e6
    }
}
