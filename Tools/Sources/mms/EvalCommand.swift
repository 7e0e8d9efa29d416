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
            let lines = try String(contentsOfFile: queries, encoding: .utf8).split(separator: "\n")
            for line in lines {
                let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw ValidationError("\(queries): \"\(line)\" is not id<TAB>text") }
                var grades: [VectorID: Int] = [:]
                for (doc, grade) in judged[parts[0]]?.grades ?? [:] {
                    if let id = UInt64(doc) { grades[VectorID(id)] = grade }
                }
                cases.append((parts[0], parts[1], Judgements(grades: grades)))
            }
        } else {
            var byCategory: [String: [VectorID]] = [:]
            for r in records { byCategory[r.category ?? "", default: []].append(r.id) }
            for (category, ids) in byCategory.sorted(by: { $0.key < $1.key }) where ids.count >= minItems && !category.isEmpty {
                let name = (category as NSString).lastPathComponent.replacingOccurrences(of: "_", with: " ")
                cases.append((category, name, Judgements(relevant: ids)))
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
