import Encoders
import Foundation
import Ranking
import SearchCore
import Testing
import _TestSupport

@testable import MultimodalSearch

/// Zero-shot tagging at ingest and the safety filter at query time, through
/// the tiny CLIP: the labels written are exactly what the classifier gives
/// for each item's stored picture embedding.
@Suite("Zero-shot tagging and safety filtering in the engine")
struct TaggingTests {
    static func classifier(_ configuration: SearchEngine.Configuration, scoring: ZeroShotScoring = .openAICLIP) throws -> ZeroShotClassifier {
        let text = try #require(configuration.crossModalTextEncoder)
        return try ZeroShotClassifier(
            labels: ["frog", "cat", "dog", "car", "bus", "apple", "bread"], templates: ["a photo of a {}.", "a {}"],
            textEncoder: text, scoring: scoring)
    }

    @Test("tags and a metadata field are written at ingest from each picture's embedding, stored and returned")
    func tagsAtIngest() throws {
        let folder = try PictureFolder(broken: false)
        defer { folder.remove() }
        let catalog = try FolderCatalog(root: folder.root)
        let items = catalog.entries.enumerated().map { i, e in
            CatalogItem(id: VectorID(UInt64(i)), caption: e.caption, image: .file(e.path), tags: ["own"])
        }
        var configuration = try TinyCLIP.configuration(batchSize: 3)
        let objects = try Self.classifier(configuration)
        let independent = try Self.classifier(configuration, scoring: .sigmoid(scale: 10, bias: -1))
        configuration.tagging = [
            ZeroShotTagging(classifier: objects, maximumCount: 2, threshold: 0, destination: .tags),
            ZeroShotTagging(classifier: independent, maximumCount: 3, threshold: 0.2, destination: .metadata("things")),
        ]
        let dir = ScratchDirectory()
        defer { dir.remove() }
        var expected: [VectorID: CatalogItem] = [:]
        do {
            let collection = try SearchCollection(directory: dir.path, schema: SearchEngine.schema(for: configuration))
            let engine = try SearchEngine(configuration: configuration, collection: collection)
            let report = try engine.ingest(items)
            #expect(report.indexed.count == items.count)
            for item in items {
                let vector = try #require(report.imageEmbeddings[item.id])
                let top = try objects.classify(vector, maximumCount: 2, threshold: 0)
                let things = try independent.classify(vector, maximumCount: 3, threshold: 0.2)
                #expect(top.count == 2)
                var want = item
                want.tags = ["own"] + top.map(\.label)
                if !things.isEmpty { want.metadata["things"] = things.map(\.label).joined(separator: ", ") }
                let stored = try #require(try engine.item(item.id))
                #expect(stored.tags == want.tags)
                #expect(stored.metadata == want.metadata)
                #expect(report.labels[item.id] == top + things)
                expected[item.id] = want
            }
            // Results carry the written tags.
            let results = try engine.search(SearchQuery(text: "A red apple.", k: 3))
            for r in results { #expect(r.item.tags == expected[r.id]?.tags) }
        }
        // Reopened: the tags are on disk.
        let reopened = try SearchEngine(
            configuration: configuration,
            collection: SearchCollection(directory: dir.path, schema: SearchEngine.schema(for: configuration)))
        for (id, want) in expected { #expect(try reopened.item(id)?.tags == want.tags) }
    }

    @Test("a tagging step needs an image encoder of its classifier's dimension, a positive count and a threshold in [0, 1]")
    func validation() throws {
        let configuration = try TinyCLIP.configuration()
        let classifier = try Self.classifier(configuration)
        func code(_ c: SearchEngine.Configuration) -> SearchError.Code? {
            do { _ = try SearchEngine(configuration: c) } catch { return error.code }
            return nil
        }
        var noImages = configuration
        noImages.imageEncoder = nil
        noImages.crossModalTextEncoder = nil
        noImages.tagging = [ZeroShotTagging(classifier: classifier)]
        #expect(code(noImages) == .invalidArgument)
        var wrongSpace = configuration
        wrongSpace.tagging = [ZeroShotTagging(classifier: try ZeroShotClassifier(labels: ["a"], embeddings: [1, 2, 3], scoring: .openAICLIP))]
        #expect(code(wrongSpace) == .dimensionMismatch)
        var badCount = configuration
        badCount.tagging = [ZeroShotTagging(classifier: classifier, maximumCount: 0)]
        #expect(code(badCount) == .invalidArgument)
        var badThreshold = configuration
        badThreshold.tagging = [ZeroShotTagging(classifier: classifier, threshold: 2)]
        #expect(code(badThreshold) == .invalidArgument)
        var fine = configuration
        fine.tagging = [ZeroShotTagging(classifier: classifier, destination: .metadata("labels"))]
        #expect(code(fine) == nil)
    }

    @Test("a safety filter over the ingested picture embeddings removes the flagged results of a search")
    func safetyFilterInSearch() throws {
        let folder = try PictureFolder(broken: false)
        defer { folder.remove() }
        let catalog = try FolderCatalog(root: folder.root)
        let items = catalog.entries.enumerated().map { i, e in
            CatalogItem(id: VectorID(UInt64(i)), caption: e.caption, image: .file(e.path))
        }
        let base = try TinyCLIP.configuration()
        let concepts = try Self.classifier(base)
        // Embed once to know which pictures the tiny model calls "cat" or "dog" (its labels mean nothing;
        // the check is that exactly the flagged ones go).
        let probe = try SearchEngine(configuration: base)
        let report = try probe.ingest(items)
        var table = EmbeddingTable(dimension: concepts.dimension)
        for (id, vector) in report.imageEmbeddings { try table.set(id, vector) }
        // The unsafe scores, then a threshold between two of them, so some pictures are flagged and some not.
        let scorer = try SafetyFilter(classifier: concepts, unsafeLabels: ["cat", "dog"], threshold: 1, items: table)
        var scores: [VectorID: Float] = [:]
        for id in report.indexed { scores[id] = try #require(try scorer.unsafeScore(of: id)) }
        let sorted = Set(scores.values).sorted()
        try #require(sorted.count >= 2)
        let threshold = (sorted[sorted.count / 2 - (sorted.count % 2 == 0 ? 1 : 0)] + sorted[sorted.count / 2]) / 2
        let safety = try SafetyFilter(classifier: concepts, unsafeLabels: ["cat", "dog"], threshold: threshold, items: table)
        let flagged = Set(scores.filter { $0.value >= threshold }.keys)
        #expect(!flagged.isEmpty && flagged.count < items.count)

        var configuration = base
        configuration.rerankers = [safety]
        let engine = try SearchEngine(configuration: configuration)
        _ = try engine.ingest(items)
        let unfiltered = try probe.search(SearchQuery(text: "A cat sleeping.", k: items.count))
        let filtered = try engine.search(SearchQuery(text: "A cat sleeping.", k: items.count))
        #expect(filtered.map(\.id) == unfiltered.map(\.id).filter { !flagged.contains($0) })
    }
}
