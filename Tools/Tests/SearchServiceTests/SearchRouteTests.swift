import Foundation
import MultimodalSearch
import SearchCore
import Testing

@testable import SearchService

@Suite struct SearchRouteTests {
    @Test func textSearchRanksAndExplains() async throws {
        let server = try await RunningService.start()
        let reply = try await server.json("POST", "/v1/search", ["text": "green frog", "k": 3])
        #expect(reply.status == 200, "\(reply.text)")
        let results = try #require(reply.object["results"] as? [[String: Any]])
        #expect(results.count == 3)
        #expect(results.first?["id"] as? Int == 1)
        #expect(results.first?["rank"] as? Int == 1)
        let explanation = try #require(results.first?["explanation"] as? [String: Double])
        #expect(explanation["caption"] != nil && explanation["fusion"] != nil && explanation["keyword"] != nil)
        #expect((results.first?["matchedTerms"] as? [String: [String]])?["caption"]?.contains("frog") == true)
        #expect(reply.object["tookMs"] is Double)
        #expect(reply.object["queryCache"] as? String == "miss")
        try await server.stop()
    }

    @Test func filtersAndUserHides() async throws {
        let server = try await RunningService.start()
        let filtered = try await server.json(
            "POST", "/v1/search", ["text": "red", "k": 5, "filter": ["prefix": ["category": "food"]]])
        let ids = (filtered.object["results"] as? [[String: Any]])?.compactMap { $0["id"] as? Int }
        #expect(ids == [5])
        // A hide from "ada" removes the item from ada's results only.
        let hide = try await server.json("POST", "/v1/events", ["userID": "ada", "itemID": 2, "kind": "hide"])
        #expect(hide.status == 200 && hide.object["recorded"] as? Int == 1)
        let forAda = try await server.json("POST", "/v1/search", ["text": "red sports car", "k": 5, "userID": "ada"])
        let forBo = try await server.json("POST", "/v1/search", ["text": "red sports car", "k": 5, "userID": "bo"])
        #expect((forAda.object["results"] as? [[String: Any]])?.contains { $0["id"] as? Int == 2 } == false)
        #expect((forBo.object["results"] as? [[String: Any]])?.first?["id"] as? Int == 2)
        let badKind = try await server.json("POST", "/v1/events", ["itemID": 2, "kind": "like"])
        #expect(badKind.status == 400 && badKind.errorCode == "invalidArgument")
        try await server.stop()
    }

    @Test func badRequestsAreJSONErrors() async throws {
        let server = try await RunningService.start()
        let noQuery = try await server.json("POST", "/v1/search", ["k": 3])
        #expect(noQuery.status == 400 && noQuery.errorCode == "invalidArgument")
        let badK = try await server.json("POST", "/v1/search", ["text": "frog", "k": 0])
        #expect(badK.status == 400 && badK.errorCode == "invalidArgument" && badK.errorMessage?.contains("k") == true)
        let notJSON = try await server.request("POST", "/v1/search", body: Array("{nope".utf8), contentType: "application/json")
        #expect(notJSON.status == 400 && notJSON.errorCode == "invalidArgument")
        let wrongType = try await server.request("POST", "/v1/search", body: Array("frog".utf8), contentType: "text/plain")
        #expect(wrongType.status == 415 && wrongType.errorCode == "unsupportedMediaType")
        let noRoute = try await server.request("GET", "/v1/nothing")
        #expect(noRoute.status == 404 && noRoute.errorCode == "notFound")
        let noItem = try await server.request("GET", "/v1/items/999")
        #expect(noItem.status == 404 && noItem.errorCode == "notFound")
        let minRelevance = try await server.json("POST", "/v1/search", ["text": "frog", "minRelevance": 0.5])
        #expect(minRelevance.status == 400 && minRelevance.errorMessage?.contains("calibration") == true)
        try await server.stop()
    }

    @Test func pictureQueriesAsJSONRawBodyAndMultipart() async throws {
        let server = try await RunningService.start(pictures: true)
        let picture = try fixture("orientation1.jpg")
        let asJSON = try await server.json("POST", "/v1/search", ["image": Data(picture).base64EncodedString(), "k": 2])
        #expect(asJSON.status == 200, "\(asJSON.text)")  // nothing pictured yet: no results, no error
        // Add pictured items (through the API) so the picture index holds something.
        let add = try await server.json(
            "POST", "/v1/items",
            ["items": [["id": 10, "caption": "a photo", "image": Data(picture).base64EncodedString()]]],
            headers: ["X-API-Key": RunningService.key])
        #expect(add.status == 200 && (add.object["indexed"] as? [Int]) == [10], "\(add.text)")
        let raw = try await server.request("POST", "/v1/search?k=1", body: picture, contentType: "image/jpeg")
        #expect(raw.status == 200, "\(raw.text)")
        let top = (raw.object["results"] as? [[String: Any]])?.first
        #expect(top?["id"] as? Int == 10)
        #expect((top?["explanation"] as? [String: Double])?["image"] != nil)
        #expect(top?["picture"] as? String == "/v1/items/10/picture")
        let boundary = "mms-test-boundary"
        var form = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nphoto\r\n".utf8)
        form += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"image\"; filename=\"q.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n".utf8)
        form += picture + Array("\r\n--\(boundary)--\r\n".utf8)
        let multipart = try await server.request(
            "POST", "/v1/search", body: form, contentType: "multipart/form-data; boundary=\(boundary)")
        #expect(multipart.status == 200, "\(multipart.text)")
        let explanation = (multipart.object["results"] as? [[String: Any]])?.first?["explanation"] as? [String: Double]
        #expect(explanation?["image"] != nil && explanation?["caption"] != nil)
        // The same picture again comes from the content-hash cache.
        let metrics = try await server.request("GET", "/metrics").text
        #expect(metrics.contains("mms_picture_cache_hits_total 2"), "\(metrics)")
        let notAPicture = try await server.request("POST", "/v1/search", body: Array("GIF89a....".utf8), contentType: "image/gif")
        #expect(notAPicture.status == 400 || notAPicture.status == 415)
        try await server.stop()
    }

    @Test func textOnlyCollectionRefusesPictureQueries() async throws {
        let server = try await RunningService.start()
        let reply = try await server.request("POST", "/v1/search", body: try fixture("orientation1.jpg"), contentType: "image/jpeg")
        #expect(reply.status == 400 && reply.errorMessage?.contains("image encoder") == true)
        try await server.stop()
    }
}
