import Foundation
import MultimodalSearch
import SearchCore
import Testing

@testable import SearchService

@Suite struct WriteRouteTests {
    static let item: [String: Any] = ["items": [["id": 42, "caption": "a brass floor lamp", "category": "home", "tags": ["brass"]]]]

    @Test func writesWithoutOrWithAWrongKeyAreRefused() async throws {
        let server = try await RunningService.start()
        let missing = try await server.json("POST", "/v1/items", Self.item)
        #expect(missing.status == 401 && missing.errorCode == "unauthorized")
        let wrong = try await server.json("POST", "/v1/items", Self.item, headers: ["X-API-Key": RunningService.key + "x"])
        #expect(wrong.status == 401 && wrong.errorCode == "unauthorized")
        let prefix = try await server.json("POST", "/v1/items", Self.item, headers: ["Authorization": "Bearer test-key"])
        #expect(prefix.status == 401)
        let deleteMissing = try await server.request("DELETE", "/v1/items/1")
        #expect(deleteMissing.status == 401 && deleteMissing.errorCode == "unauthorized")
        let deleteWrong = try await server.request("DELETE", "/v1/items/1", headers: ["Authorization": "Bearer nope"])
        #expect(deleteWrong.status == 401)
        // Nothing was written.
        #expect(try await server.request("GET", "/v1/items/42").status == 404)
        #expect(try await server.request("GET", "/v1/items/1").status == 200)
        try await server.stop()
    }

    @Test func writesWithTheKeyAreOnDisk() async throws {
        let server = try await RunningService.start()
        let added = try await server.json(
            "POST", "/v1/items", Self.item, headers: ["Authorization": "Bearer \(RunningService.key)"])
        #expect(added.status == 200 && added.object["indexed"] as? [Int] == [42], "\(added.text)")
        let found = try await server.json("POST", "/v1/search", ["text": "brass lamp", "k": 1])
        #expect((found.object["results"] as? [[String: Any]])?.first?["id"] as? Int == 42)
        let item = try await server.request("GET", "/v1/items/42")
        #expect(item.object["caption"] as? String == "a brass floor lamp" && item.object["tags"] as? [String] == ["brass"])
        let deleted = try await server.request("DELETE", "/v1/items/1", headers: ["X-API-Key": RunningService.key])
        #expect(deleted.status == 200 && deleted.object["removed"] as? Int == 1)
        let again = try await server.request("DELETE", "/v1/items/1", headers: ["X-API-Key": RunningService.key])
        #expect(again.object["removed"] as? Int == 0)
        let badPicture = try await server.json(
            "POST", "/v1/items", ["items": [["id": 43, "caption": "x", "image": Data("not a picture".utf8).base64EncodedString()]]],
            headers: ["X-API-Key": RunningService.key])
        let skipped = badPicture.object["skipped"] as? [[String: Any]]
        #expect(skipped?.first?["id"] as? Int == 43 && (skipped?.first?["error"] as? [String: Any])?["code"] as? String == "unsupportedFormat")
        try await server.stop()
        // Reopened, the collection holds what was acknowledged and nothing needs replaying.
        let configuration = SearchEngine.Configuration(textEncoder: WordHashEncoder(), textEncoderName: "word-hash")
        let reopened = try SearchCollection(directory: server.directory, schema: SearchEngine.schema(for: configuration))
        #expect(try reopened.item(42)?.caption == "a brass floor lamp")
        #expect(try reopened.item(1) == nil)
        #expect(reopened.recovery.logRecordsReplayed == 0)
        try reopened.close()
    }

    @Test func keysCompareWholeAndInConstantShape() {
        let keys = APIKeys(["alpha-key", "beta"])
        #expect(keys.accepts("alpha-key") && keys.accepts("beta"))
        #expect(!keys.accepts("alpha-ke") && !keys.accepts("alpha-keyy") && !keys.accepts("") && !keys.accepts(nil))
        #expect(!APIKeys([]).accepts("anything") && !APIKeys([""]).accepts(""))
        #expect(APIKeys.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!APIKeys.constantTimeEqual([1, 2, 3], [1, 2, 4]) && !APIKeys.constantTimeEqual([1, 2], [1, 2, 0]))
        // Lengths that differ by a multiple of 256 still differ.
        #expect(!APIKeys.constantTimeEqual([UInt8](repeating: 0, count: 256), []))
    }

    @Test func picturesAreServedOnlyFromTheirRoots() async throws {
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("mms-outside-\(UUID().uuidString).jpg").path
        let picture = try fixture("orientation1.jpg")
        try Data(picture).write(to: URL(fileURLWithPath: outside))
        let server = try await RunningService.start(
            pictures: true,
            items: RunningService.catalogue + [
                CatalogItem(id: 20, caption: "outside", image: .file(outside)),
            ])
        let add = try await server.json(
            "POST", "/v1/items", ["items": [["id": 22, "caption": "uploaded", "image": Data(picture).base64EncodedString()]]],
            headers: ["X-API-Key": RunningService.key])
        #expect(add.status == 200)
        let uploaded = try await server.request("GET", "/v1/items/22/picture")
        #expect(uploaded.status == 200 && uploaded.body == picture && uploaded.headers["content-type"] == "image/jpeg")
        #expect(try await server.request("GET", "/v1/items/20/picture").status == 404)
        #expect(try await server.request("GET", "/v1/items/3/picture").status == 404)  // no picture at all
        // A path that starts inside pictures/ but climbs out with .. is refused.
        let store = PictureStore(collectionDirectory: server.directory, pictureRoots: [])
        let climbing = server.directory + "/pictures/../../" + (outside as NSString).lastPathComponent
        #expect(FileManager.default.fileExists(atPath: climbing) && store.servable(climbing) == nil)
        // A symbolic link inside pictures/ pointing outside is not followed out.
        let link = server.directory + "/pictures/link.jpg"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: outside)
        #expect(store.servable(link) == nil)
        #expect(PictureStore(collectionDirectory: server.directory, pictureRoots: [(outside as NSString).deletingLastPathComponent]).servable(link) != nil)
        try await server.stop()
    }
}
