import ArgumentParser
import Foundation
import Ranking
import SearchCore

/// `mms-bench ranking`: learned-ranker scoring against LightGBM's own predict,
/// engagement ingestion and MMR, on one thread.
struct RankingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ranking",
        abstract: "GBDT and LR re-ranking of 1,000 × 32 candidates against LightGBM's predict, ingestion, MMR.",
        discussion: """
            The GBDT is LightGBM's 200-tree model committed as a test fixture; the anchor script
            (Benchmarks/anchors/ranking_anchor.py) loads the same file and scores the same rows,
            written by this command, with num_threads=1 in the same run.
            """)

    @Option(help: "Write the report as JSON to this file.") var json: String?
    @Option(help: "The LightGBM text model to score.") var model = "Tests/RankingTests/Fixtures/gbdt_bench_200x32.txt"
    @Option(help: "The Python with lightgbm installed.") var python = ".venv-ranking/bin/python"
    @Option(help: "The anchor script, or 'none'.") var anchorScript = "Benchmarks/anchors/ranking_anchor.py"
    @Option(help: "Timed repetitions per figure.") var repeats = 300
    @Option(help: "Candidates per request.") var candidates = 1000

    func run() throws {
        let text = try String(contentsOfFile: model, encoding: .utf8)
        let gbdt = try GradientBoostedTrees(lightGBMText: text)
        let d = gbdt.featureCount
        let n = candidates
        var rng = SeededGenerator(seed: 2026)
        var rows = [Double](repeating: 0, count: n * d)
        for i in rows.indices { rows[i] = rng.normal() }
        for r in 0..<n where rng.uniform() < 0.05 { rows[r * d + min(3, d - 1)] = .nan }
        var results: [BenchResult] = []
        var summary: [String: Double] = [:]

        // Ours: GBDT over the batch, and one row at a time.
        var scores = [Double](repeating: 0, count: n)
        let gbdtTimes = try timings(repeats) {
            try rows.withUnsafeBufferPointer { r in
                try scores.withUnsafeMutableBufferPointer { s in try gbdt.rawScores(r, into: s) }
            }
        }
        var one = [Double](repeating: 0, count: 1)
        let singleRows = min(100, n)
        var rowTimes: [Double] = []
        for _ in 0..<max(repeats / 10, 5) {
            for r in 0..<singleRows {
                let start = Clock.now()
                try rows.withUnsafeBufferPointer { all in
                    try one.withUnsafeMutableBufferPointer { s in
                        try gbdt.rawScores(UnsafeBufferPointer(rebasing: all[(r * d)..<((r + 1) * d)]), into: s)
                    }
                }
                rowTimes.append(Double(Clock.now() - start) / 1e3)
            }
        }
        blackHole(one)

        // LR on the same rows.
        let lr = LogisticRegression(weights: (0..<d).map { _ in rng.normal() }, bias: 0.1,
                                    means: (0..<d).map { _ in 0.1 * rng.normal() }, scales: (0..<d).map { _ in 1 + rng.uniform() })
        let lrTimes = try timings(repeats) {
            try rows.withUnsafeBufferPointer { r in
                try scores.withUnsafeMutableBufferPointer { s in try lr.logits(r, into: s) }
            }
        }

        // LightGBM's predict on the same model and rows.
        var anchorBatch: [Double] = []
        var anchorRow: [Double] = []
        var capiBatch: [Double] = []
        var capiRow: [Double] = []
        var parity = Double.nan
        var version = "?"
        if anchorScript != "none" {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mms-bench-ranking-\(getpid())")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let rowsFile = dir.appendingPathComponent("rows.f64").path
            let outFile = dir.appendingPathComponent("anchor.json").path
            var bytes: [UInt8] = []
            bytes.reserveCapacity(rows.count * 8)
            for v in rows { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
            try Data(bytes).write(to: URL(fileURLWithPath: rowsFile))
            let process = Process()
            try AnchorPython.require(python, set: "ranking")
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [anchorScript, "--model", model, "--rows", rowsFile, "--features", String(d),
                                 "--repeats", String(repeats), "--single-rows", String(singleRows), "--out", outFile]
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw SearchError(.io, "\(python) \(anchorScript) exited with \(process.terminationStatus)")
            }
            struct Anchor: Decodable {
                var batch_us: [Double]
                var row_us: [Double]
                var capi_batch_us: [Double]
                var capi_row_us: [Double]
                var raw: [Double]
                var lightgbm: String
            }
            let anchor = try JSONDecoder().decode(Anchor.self, from: Data(contentsOf: URL(fileURLWithPath: outFile)))
            anchorBatch = anchor.batch_us
            anchorRow = anchor.row_us
            capiBatch = anchor.capi_batch_us
            capiRow = anchor.capi_row_us
            version = anchor.lightgbm
            let ours = try gbdt.rawScores(rows)
            parity = zip(ours, anchor.raw).map { abs($0 - $1) }.max() ?? .nan
        }

        let gbdtP50 = percentile(gbdtTimes, 50), gbdtP99 = percentile(gbdtTimes, 99)
        let rowP50 = percentile(rowTimes, 50)
        func p(_ values: [Double], _ q: Double) -> Double? { values.isEmpty ? nil : percentile(values, q) }
        let capiName = "LightGBM \(version) C API"
        let pyName = "LightGBM \(version) Booster.predict"
        results.append(BenchResult("gbdt_\(n)x\(d)_p50", gbdtP50, "µs", anchor: capiName, anchorValue: p(capiBatch, 50),
                                   note: "\(gbdt.treeCount) trees, one thread, raw scores"))
        results.append(BenchResult("gbdt_\(n)x\(d)_p99", gbdtP99, "µs", anchor: capiName, anchorValue: p(capiBatch, 99)))
        results.append(BenchResult("gbdt_\(n)x\(d)_p50", gbdtP50, "µs", anchor: pyName, anchorValue: p(anchorBatch, 50)))
        results.append(BenchResult("gbdt_\(n)x\(d)_p99", gbdtP99, "µs", anchor: pyName, anchorValue: p(anchorBatch, 99)))
        results.append(BenchResult("gbdt_row_p50", rowP50, "µs", anchor: "\(capiName) SingleRowFast",
                                   anchorValue: p(capiRow, 50), note: "one row per call"))
        results.append(BenchResult("gbdt_row_p50", rowP50, "µs", anchor: "\(pyName) (1 row)",
                                   anchorValue: p(anchorRow, 50), note: "LightGBM's includes its Python call"))
        results.append(BenchResult("gbdt_rows_per_s", Double(n) / gbdtP50 * 1e6, "rows/s", anchor: capiName,
                                   anchorValue: p(capiBatch, 50).map { Double(n) / $0 * 1e6 }))
        results.append(BenchResult("gbdt_max_abs_diff_vs_lightgbm", parity, "", note: "raw scores, same rows"))
        results.append(BenchResult("lr_\(n)x\(d)_p50", percentile(lrTimes, 50), "µs"))
        results.append(BenchResult("lr_\(n)x\(d)_p99", percentile(lrTimes, 99), "µs"))
        summary["gbdt_1000x32_p50_us"] = gbdtP50
        // Throughput ratio on the same batch: ours ÷ LightGBM's fastest batch path (its C API).
        if let capi = p(capiBatch, 50) {
            summary["gbdt_ratio_vs_lightgbm"] = capi / gbdtP50
            summary["lightgbm_capi_1000x32_p50_us"] = capi
        }
        if let py = p(anchorBatch, 50) { summary["lightgbm_predict_1000x32_p50_us"] = py }
        summary["lr_1000x32_p50_us"] = percentile(lrTimes, 50)

        // Engagement ingestion: batches of 1,000 events (100k items, 10k users).
        let store = EngagementStore()
        let base = Date(timeIntervalSince1970: 1_800_000_000)
        let eventCount = 1_000_000
        var events: [EngagementEvent] = []
        events.reserveCapacity(eventCount)
        for i in 0..<eventCount {
            let kind: EngagementKind = rng.uniform() < 0.7 ? .impression : (rng.uniform() < 0.7 ? .click : .save)
            events.append(EngagementEvent(item: VectorID(rng.next() % 100_000), user: UserID(rng.next() % 10_000),
                                          kind: kind, time: base.addingTimeInterval(Double(i) * 0.01)))
        }
        let ingestStart = Clock.now()
        var start = 0
        while start < eventCount {
            store.record(events[start..<min(start + 1000, eventCount)])
            start += 1000
        }
        let ingestSeconds = Double(Clock.now() - ingestStart) / 1e9
        let singleStore = EngagementStore()
        let singleStart = Clock.now()
        for e in events { singleStore.record(e) }
        let singleSeconds = Double(Clock.now() - singleStart) / 1e9
        results.append(BenchResult("ingest_batched", Double(eventCount) / ingestSeconds, "events/s",
                                   note: "1M events into an empty store, batches of 1,000; 100k items, 10k users"))
        results.append(BenchResult("ingest_single", Double(eventCount) / singleSeconds, "events/s",
                                   note: "the same events, one lock per event"))
        summary["ingest_events_per_s"] = Double(eventCount) / ingestSeconds

        // MMR 1,000 → 50 over 64-dimensional embeddings.
        var table = EmbeddingTable(dimension: 64)
        for i in 0..<n { try table.set(VectorID(UInt64(i)), (0..<64).map { _ in Float(rng.normal()) }) }
        let ranked = (0..<n).map { RankedCandidate(id: VectorID(UInt64($0)), score: rng.uniform()) }
            .sorted { $0.score > $1.score }
        let mmr = MaximalMarginalRelevance(lambda: 0.7, count: 50, items: table)
        let context = RankingContext(now: base)
        var kept = 0
        let mmrTimes = try timings(repeats) { kept &+= mmr.rerank(ranked, context: context).count }
        blackHole(kept)
        results.append(BenchResult("mmr_1000_to_50_p50", percentile(mmrTimes, 50), "µs", note: "64-d embeddings, λ = 0.7"))
        results.append(BenchResult("mmr_1000_to_50_p99", percentile(mmrTimes, 99), "µs"))
        summary["mmr_1000to50_p50_us"] = percentile(mmrTimes, 50)

        let report = BenchReport(suite: "ranking", machine: .current(kernels: "n/a"), results: results, summary: summary)
        report.printTable()
        if let json { try report.write(json: json) }
    }

    /// Microseconds of each of `repeats` calls of `body`, after one warm-up call.
    private func timings(_ repeats: Int, _ body: () throws -> Void) throws -> [Double] {
        try body()
        var out: [Double] = []
        out.reserveCapacity(repeats)
        for _ in 0..<repeats {
            let start = Clock.now()
            try body()
            out.append(Double(Clock.now() - start) / 1e3)
        }
        return out
    }

    /// The nearest-rank percentile.
    private func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank - 1, 0), sorted.count - 1)]
    }
}
