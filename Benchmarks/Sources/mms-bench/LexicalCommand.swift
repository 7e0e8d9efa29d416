import ArgumentParser
import Foundation
import LexicalIndex
import SearchCore

/// `mms-bench lexical`: keyword indexing and top-10 search over Debian's
/// package descriptions, against tantivy and bm25s in the same run, one thread.
struct LexicalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lexical",
        abstract: "BM25 keyword index: documents/s to index, top-10 QPS, p50/p99, against tantivy and bm25s.",
        discussion: """
            The corpus and queries come from Debian's package index: run `apt-get update`, then
            `python3 Benchmarks/anchors/make_lexical_corpus.py` (writes bench-data/lexical/). The anchors
            (Benchmarks/anchors/lexical_anchor.py, in the venv `scripts/bench-env.sh lexical` makes) index the
            same texts and run the same queries with English stemming, one thread. Indexing time is from an
            empty index to every document durable in segments (ours: the adds in batches of --batch, deferred
            (written to the log, not flushed to the device), and a flush that makes them all durable, as
            tantivy's add_document calls are durable at its one commit; tantivy: add_document, commit, merges
            and reload). Tantivy's writer is given 200 MB of indexing memory; ours keeps the index's default
            head of 20,000 documents (--head-documents), so the corpus ends in 4 segments. Query time is parse,
            analyse, search and the top 10, per query.
            """)

    @Option(help: "Write the report as JSON to this file.") var json: String?
    @Option(help: "The directory with corpus.jsonl and queries.jsonl.") var data = "bench-data/lexical"
    @Option(help: "Where the indices are written.") var workDir = "bench-data/lexical/work"
    @Option(help: "The Python with tantivy, bm25s and PyStemmer installed.") var python = ".venv-lexical/bin/python"
    @Option(help: "The anchor script, or 'none'.") var anchorScript = "Benchmarks/anchors/lexical_anchor.py"
    @Option(help: "Documents per add call.") var batch = 1_000
    @Option(help: "Documents the index's head holds before it is written as a segment.") var headDocuments = LexicalIndex.Options().headDocuments
    @Option(help: "Queries bm25s is timed on (it is slow per call).") var bm25sQueries = 200
    @Option(help: "How many times our indexing and queries are measured (the median run is reported).") var runs = 3
    @Option(help: "Print this many of our slowest queries with their times.") var slowest = 0
    @Flag(help: "Also measure retrieval quality as `mms-bench hybrid` does (its defaults) and add its rows and summary keys (hybrid_ndcg10_gain).")
    var hybrid = false

    struct Document: Decodable {
        var id: UInt64
        var text: String
    }
    struct Query: Decodable {
        var text: String
    }

    func run() throws {
        let documents = try Self.lines(data + "/corpus.jsonl", as: Document.self)
        let queries = try Self.lines(data + "/queries.jsonl", as: Query.self).map(\.text)
        guard !documents.isEmpty, !queries.isEmpty else {
            throw ValidationError("no corpus in \(data): run `python3 Benchmarks/anchors/make_lexical_corpus.py` after `apt-get update`")
        }
        try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
        let configuration = LexicalIndex.Configuration(fields: [LexicalField(name: "text")])

        // Ours: index from empty, then the queries, `runs` times; the run with the median indexing time is kept.
        var indexSeconds: [Double] = []
        var queryRuns: [[Double]] = []
        var top10: [[UInt64]] = []
        var segmentCount = 0
        for _ in 0..<max(1, runs) {
            let directory = workDir + "/ours"
            try? FileManager.default.removeItem(atPath: directory)
            let start = Clock.now()
            let index = try LexicalIndex(
                directory: directory, configuration: configuration, options: LexicalIndex.Options(headDocuments: headDocuments))
            var i = 0
            while i < documents.count {
                let slice = documents[i..<min(i + batch, documents.count)]
                try index.add(slice.map { (VectorID($0.id), ["text": $0.text]) }, durability: .deferred)
                i += batch
            }
            try index.flush()
            indexSeconds.append(Double(Clock.now() - start) / 1e9)
            segmentCount = index.segments.count
            for q in queries.prefix(50) { blackHole(try index.search(q, k: 10)) }
            var times: [Double] = []
            times.reserveCapacity(queries.count)
            top10 = []
            for q in queries {
                let t0 = Clock.now()
                let hits = try index.search(q, k: 10)
                times.append(Double(Clock.now() - t0) / 1e3)
                top10.append(hits.map(\.id.rawValue))
            }
            queryRuns.append(times)
        }
        let ourIndex = Clock.median(indexSeconds)
        let ourQueryTotals = queryRuns.map { $0.reduce(0, +) }
        let medianRun = queryRuns[ourQueryTotals.indices.sorted { ourQueryTotals[$0] < ourQueryTotals[$1] }[queryRuns.count / 2]]
        let ourQPS = Double(queries.count) / (medianRun.reduce(0, +) / 1e6)
        for i in medianRun.indices.sorted(by: { medianRun[$0] > medianRun[$1] }).prefix(slowest) {
            print(String(format: "%9.1f µs  ", medianRun[i]) + queries[i])
        }

        var results: [BenchResult] = []
        var summary: [String: Double] = [:]
        let n = Double(documents.count)
        results.append(BenchResult("index_docs_per_s", n / ourIndex, "docs/s",
                                   note: "\(documents.count) documents, batches of \(batch), \(segmentCount) segments, median of \(indexSeconds.count)"))
        results.append(BenchResult("query_qps", ourQPS, "queries/s", note: "\(queries.count) queries, top 10"))
        results.append(BenchResult("query_p50", percentile(medianRun, 50), "µs"))
        results.append(BenchResult("query_p99", percentile(medianRun, 99), "µs"))
        summary["index_docs_per_s"] = n / ourIndex
        summary["query_qps"] = ourQPS

        if anchorScript != "none" {
            try AnchorPython.require(python, set: "lexical")
            let out = workDir + "/anchor.json"
            let process = Process()
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [anchorScript, "--corpus", data + "/corpus.jsonl", "--queries", data + "/queries.jsonl",
                                 "--work", workDir, "--out", out, "--bm25s-queries", String(bm25sQueries)]
            var environment = ProcessInfo.processInfo.environment
            environment["OMP_NUM_THREADS"] = "1"
            environment["NUMBA_NUM_THREADS"] = "1"
            process.environment = environment
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw SearchError(.io, "\(python) \(anchorScript) exited with \(process.terminationStatus)")
            }
            struct Engine: Decodable {
                var index_seconds: Double
                var documents: Int
                var query_us: [Double]
                var top10: [[UInt64]]
            }
            struct Anchor: Decodable {
                var versions: [String: String]
                var tantivy: Engine
                var bm25s: Engine?
            }
            let anchor = try JSONDecoder().decode(Anchor.self, from: Data(contentsOf: URL(fileURLWithPath: out)))
            for (name, engine) in [("tantivy", anchor.tantivy), ("bm25s", anchor.bm25s)] {
                guard let engine else { continue }
                let label = "\(name) \(anchor.versions[name] ?? "?")"
                let count = engine.query_us.count
                let theirQPS = Double(count) / (engine.query_us.reduce(0, +) / 1e6)
                // Our QPS over the same queries the anchor ran.
                let oursSame = Double(count) / (medianRun.prefix(count).reduce(0, +) / 1e6)
                results.append(BenchResult("index_docs_per_s", n / ourIndex, "docs/s", anchor: label,
                                           anchorValue: Double(engine.documents) / engine.index_seconds))
                results.append(BenchResult("query_qps", oursSame, "queries/s", anchor: label, anchorValue: theirQPS,
                                           note: "first \(count) queries"))
                results.append(BenchResult("query_p50", percentile(Array(medianRun.prefix(count)), 50), "µs", anchor: label,
                                           anchorValue: percentile(engine.query_us, 50)))
                results.append(BenchResult("query_p99", percentile(Array(medianRun.prefix(count)), 99), "µs", anchor: label,
                                           anchorValue: percentile(engine.query_us, 99)))
                // Agreement of the top 10 (a sanity check that both searched the same thing).
                var overlap = 0.0
                for (ours, theirs) in zip(top10, engine.top10) {
                    overlap += Double(Set(ours).intersection(theirs).count) / Double(max(1, min(10, max(ours.count, theirs.count))))
                }
                results.append(BenchResult("top10_overlap", overlap / Double(min(top10.count, engine.top10.count)), "fraction",
                                           anchor: label, note: "mean |ours ∩ theirs| / 10 (ties at the cut make it < 1)"))
                if name == "tantivy" {
                    summary["index_ratio_vs_tantivy"] = (n / ourIndex) / (Double(engine.documents) / engine.index_seconds)
                    summary["query_qps_ratio_vs_tantivy"] = oursSame / theirQPS
                    summary["tantivy_index_docs_per_s"] = Double(engine.documents) / engine.index_seconds
                    summary["tantivy_query_qps"] = theirQPS
                } else {
                    summary["index_ratio_vs_bm25s"] = (n / ourIndex) / (Double(engine.documents) / engine.index_seconds)
                    summary["query_qps_ratio_vs_bm25s"] = oursSame / theirQPS
                }
            }
        }
        if hybrid {
            let (rows, keys) = try HybridCommand.parse([]).evaluate()
            results += rows
            summary.merge(keys) { _, new in new }
        }
        let report = BenchReport(suite: "lexical", machine: .current(kernels: "n/a"), results: results, summary: summary)
        report.printTable()
        if let json { try report.write(json: json) }
    }

    static func lines<T: Decodable>(_ path: String, as: T.Type) throws -> [T] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ValidationError("cannot read \(path): run `python3 Benchmarks/anchors/make_lexical_corpus.py` after `apt-get update`")
        }
        let decoder = JSONDecoder()
        return try text.split(separator: "\n").map { try decoder.decode(T.self, from: Data($0.utf8)) }
    }

    private func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank - 1, 0), sorted.count - 1)]
    }
}
