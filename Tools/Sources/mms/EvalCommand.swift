import ArgumentParser
import Evaluation
import Foundation
import MultimodalSearch
import SearchCore

/// `mms eval --store <dir>`: retrieval quality with category folders as relevance.
struct EvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Recall@10 and NDCG@10 of a store, against a qrels file or its category folders.",
        discussion: """
            Without --qrels, every category (folder) holding at least --min-items pictures becomes a query:
            its last folder name as text ("animals/amphibians" → "amphibians"), its pictures as the relevant
            items. With --qrels FILE (TREC format, document ids = item ids) give --queries FILE too: one
            "query-id<TAB>text" per line.
            """)

    @OptionGroup var options: StoreOptions

    @Option(help: "A TREC qrels file.")
    var qrels: String?

    @Option(help: "Query texts for --qrels: one `id<TAB>text` per line.")
    var queries: String?

    @Option(help: "The smallest category that becomes a query.")
    var minItems: Int = 3

    @Option(name: .customShort("k"), help: "The cut-off.")
    var k: Int = 10

    func run() async throws {
        let (engine, collection) = try await options.open()
        let records = try collection.items()
        var cases: [(id: String, text: String, judgements: Judgements<VectorID>)] = []
        if let qrels {
            guard let queries else { throw ValidationError("--qrels needs --queries") }
            let judged = try Qrels(contentsOf: URL(fileURLWithPath: qrels))
            for query in try QuerySets.texts(queries) {
                var grades: [VectorID: Int] = [:]
                for (doc, grade) in judged[query.id]?.grades ?? [:] {
                    if let id = UInt64(doc) { grades[VectorID(id)] = grade }
                }
                cases.append((query.id, query.text, Judgements(grades: grades)))
            }
        } else {
            for set in QuerySets.categories(records.map { ($0.category ?? "", $0.id) }, minItems: minItems) {
                cases.append((set.category, set.text, Judgements(relevant: set.ids)))
            }
        }
        guard !cases.isEmpty else { throw ValidationError("no queries: the store has no category with \(minItems) or more items") }
        var recalls: [Double] = [], ndcgs: [Double] = [], latencies: [Duration] = []
        for c in cases {
            let started = ContinuousClock.now
            let results = try await engine.search(SearchQuery(text: c.text, k: k))
            latencies.append(ContinuousClock.now - started)
            let ranking = results.map(\.id)
            recalls.append(try Recall.atK(ranking, judgements: c.judgements, k: k))
            ndcgs.append(try NDCG.atK(ranking, judgements: c.judgements, k: k))
        }
        let latency = try LatencySummary(latencies)
        print("\(cases.count) queries over \(records.count) items")
        print(String(format: "recall@%d %.4f   ndcg@%d %.4f", k, MetricValues(recalls).mean, k, MetricValues(ndcgs).mean))
        print("query latency (encode → ranked results): \(latency)")
    }
}
