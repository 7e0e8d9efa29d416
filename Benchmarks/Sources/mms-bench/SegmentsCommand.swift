import ANNIndex
import ArgumentParser
import CBenchSupport
import Foundation
import SearchCore
import Tensor

/// `mms-bench segments`: a graph segment on disk — build and flush, size,
/// compression, open and first-query latency warm and cold, steady QPS from
/// the mapping against the in-memory index, resident memory — beside usearch
/// `view`, FAISS `IO_FLAG_MMAP_IFC` and hnswlib `load_index` on the same
/// vectors, in the same run.
struct SegmentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segments",
        abstract: "Memory-mapped graph segments against usearch view, FAISS mmap and hnswlib load.",
        discussion: """
            Builds our HNSW index (int8 codes, float32 originals for re-scoring) over the seeded clustered set in \
            memory on --threads threads, writes it as a segment (rows breadth-first, the library's default, or in \
            insertion order with --insertion-order; and once more in the other order to measure what reordering \
            does), then opens the segment with SegmentIndex: warm (file in the \
            page cache) and cold (evicted with posix_fadvise DONTNEED, checked with mincore), timing the open and \
            the first query; then times all queries one by one from the mapping and from the in-memory index, \
            alternating. Benchmarks/anchors/segments_anchors.py does the same for the anchors on the same files.
            """)

    @Option(help: "Write the report as JSON to this file.") var json: String?
    @Option(help: "Where the data set's fvecs/ivecs live.") var dataDir = "bench-data/segments"
    @Option(help: "Where segment and anchor index files are written.") var workDir = "bench-data/segments/work"
    @Option(help: "Base vectors.") var count = 1_000_000
    @Option(help: "Queries.") var queries = 1_000
    @Option(help: "Components per vector.") var dimension = 512
    @Option(help: "Clusters in the mixture.") var clusters = 100
    @Option(help: "Data set seed.") var seed: UInt64 = 42
    @Option(help: "M.") var m = 16
    @Option(help: "efConstruction.") var efConstruction = 100
    @Option(help: "Build threads.") var threads = 2
    @Option(help: "Search list size for every library.") var ef = 64
    @Option(help: "Rows per level-0 block.") var blockRows = 256
    @Option(help: "Repetitions of each open / first-query measurement; medians are reported.") var repeats = 5
    @Option(help: "Timed passes over every query for each of the three QPS figures; medians are reported.") var qpsRounds = 9
    @Option(help: "The Python with the anchors installed.") var python = ".venv-bench/bin/python"
    @Option(help: "The anchor script.") var anchorScript = "Benchmarks/anchors/segments_anchors.py"
    @Option(help: "Anchors to run (usearch,faiss,hnswlib), or 'none'.") var anchors = "usearch,faiss,hnswlib"
    @Flag(help: "Write the measured segment with rows in insertion order (the comparison segment gets breadth-first rows).")
    var insertionOrder = false
    var reorder: Bool { !insertionOrder }
    @Option(help: "Only time opening and the first query of this existing segment file, warm and cold.") var openOnly: String?

    func run() throws {
        let k = 10
        BLAS.threadCount = 1
        if let openOnly {
            let queries = try ANNDataSet.readFvecs(
                ANNDataSet.files(directory: dataDir, count: count, queries: queries, dimension: dimension, clusters: clusters, seed: seed).queries,
                dimension: dimension)
            let probes = (0..<repeats).map { Array(queries[($0 * dimension)..<(($0 + 1) * dimension)]) }
            let t = try openAndFirstQuery(openOnly, probes: probes, k: k)
            print("open warm \(t.openWarm), first query warm \(t.firstWarm), open warm (every byte) \(t.openWarmFull)")
            print("open cold \(t.openCold), first query cold \(t.firstCold), resident after eviction \(t.evicted)")
            print(String(format: "medians: open warm %.2f ms, first query cold %.1f ms", Clock.median(t.openWarm), Clock.median(t.firstCold)))
            return
        }
        print("data: \(count) × \(dimension), \(queries) queries, \(clusters) clusters, seed \(seed)")
        let (data, files) = try ANNDataSet.load(
            directory: dataDir, count: count, queries: queries, dimension: dimension, clusters: clusters, seed: seed,
            truthK: k)
        try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
        var results: [BenchResult] = []
        var summary: [String: Double] = [:]

        // Build in memory, then flush to a segment.
        var configuration = HNSWIndex.Configuration()
        configuration.m = m
        configuration.efConstruction = efConstruction
        configuration.encoding = .int8
        configuration.keepsFloat32ForRescoring = true
        configuration.buildThreads = threads
        configuration.efSearch = ef
        let memory = try HNSWIndex(dimension: dimension, metric: .innerProduct, configuration: configuration)
        var start = Clock.now()
        try memory.add(data.base, ids: (0..<data.count).map { VectorID(UInt64($0)) })
        let buildSeconds = Double(Clock.now() - start) / 1e9
        let path = workDir + "/ours-\(count)x\(dimension).mmsseg"
        start = Clock.now()
        try memory.writeSegment(to: path, reorderingRows: reorder, levelZeroBlockRows: blockRows)
        let flushSeconds = Double(Clock.now() - start) / 1e9
        print(String(format: "built in %.1f s on %d threads, flushed in %.1f s", buildSeconds, threads, flushSeconds))
        let otherPath = workDir + "/ours-other-order.mmsseg"
        try memory.writeSegment(to: otherPath, reorderingRows: !reorder, levelZeroBlockRows: blockRows)
        let (measured, other) = (try SegmentSizes(path), try SegmentSizes(otherPath))
        let (breadthFirst, insertion) = reorder ? (measured, other) : (other, measured)
        defer { try? FileManager.default.removeItem(atPath: otherPath) }
        let rawLevelZero = Double(count * 4 * (1 + 2 * m))
        let rawVectors = Double(count * dimension * 4)

        // Open and first query, warm and cold, `repeats` times.
        let queryRows = (0..<data.queryCount).map { data.queries[($0 * dimension)..<(($0 + 1) * dimension)].map { $0 } }
        let timings = try openAndFirstQuery(path, probes: (0..<repeats).map { queryRows[$0 % queryRows.count] }, k: k)
        let (openWarm, firstWarm, openWarmFull) = (timings.openWarm, timings.firstWarm, timings.openWarmFull)
        let (openCold, firstCold, evictedFraction) = (timings.openCold, timings.firstCold, timings.evicted)
        print("open warm \(openWarm), first query warm \(firstWarm)")
        print("open cold \(openCold), first query cold \(firstCold), resident after eviction \(evictedFraction)")

        // Steady state: one query per call, from the mapping and from memory, alternating.
        _ = try Data(contentsOf: URL(fileURLWithPath: path))
        let (rssBeforeOpen, anonBeforeOpen) = (bench_resident_bytes(), bench_resident_anonymous_bytes())
        let segment = try SegmentIndex(path: path, verification: .structure)
        let (rssAfterOpen, anonAfterOpen) = (bench_resident_bytes(), bench_resident_anonymous_bytes())
        var segmentHits: [[SearchHit]] = []
        var memoryHits: [[SearchHit]] = []
        for q in queryRows { segmentHits.append(try segment.search(q, k: k, ef: ef)) }
        let (rssAfterQueries, anonAfterQueries) = (bench_resident_bytes(), bench_resident_anonymous_bytes())
        for q in queryRows { memoryHits.append(try memory.search(q, k: k, ef: ef)) }
        // The same graph with rows in the other order, to see what reordering does to speed.
        _ = try Data(contentsOf: URL(fileURLWithPath: otherPath))
        let otherOrder = try SegmentIndex(path: otherPath, verification: .structure)
        for q in queryRows { blackHole(try otherOrder.search(q, k: k, ef: ef)) }
        var segmentQPS: [Double] = [], memoryQPS: [Double] = [], otherQPS: [Double] = []
        func qps(_ search: ([Float]) throws -> [SearchHit]) rethrows -> Double {
            let t = Clock.now()
            for q in queryRows { blackHole(try search(q)) }
            return Double(queryRows.count) / (Double(Clock.now() - t) / 1e9)
        }
        // Round after round, each starting with another of the three, so a change in the
        // machine's load falls on all alike.
        for round in 0..<qpsRounds {
            for turn in 0..<3 {
                switch (round + turn) % 3 {
                case 0: segmentQPS.append(try qps { try segment.search($0, k: k, ef: ef) })
                case 1: memoryQPS.append(try qps { try memory.search($0, k: k, ef: ef) })
                default: otherQPS.append(try qps { try otherOrder.search($0, k: k, ef: ef) })
                }
            }
        }
        var decodeAll = Clock.now()
        let fresh = try SegmentIndex(path: path, verification: .structure)
        try fresh.decodeGraph()
        decodeAll = Clock.now() - decodeAll
        print("QPS mapped \(segmentQPS.map { Int($0) }), in memory \(memoryQPS.map { Int($0) }), other order \(otherQPS.map { Int($0) })")
        let (breadthFirstQPS, insertionQPS) = reorder ? (segmentQPS, otherQPS) : (otherQPS, segmentQPS)

        func recall(_ hits: [[SearchHit]]) -> Double {
            var found = 0
            for (q, row) in hits.enumerated() {
                let truth = Set(data.truth[q].prefix(k).map { UInt64($0) })
                found += row.filter { truth.contains($0.id.rawValue) }.count
            }
            return Double(found) / Double(hits.count * k)
        }
        let median = Clock.median
        let mb = { (bytes: Int) in Double(bytes) / 1_048_576 }
        results += [
            BenchResult("build_s (in memory, \(threads) threads)", buildSeconds, "s"),
            BenchResult("flush_s (write the segment)", flushSeconds, "s"),
            BenchResult("file_mb (rows \(reorder ? "breadth-first" : "in insertion order"))", mb(measured.file), "MiB", anchor: "raw float32 vectors", anchorValue: mb(Int(rawVectors))),
            BenchResult("level0_stored_mb (breadth-first rows)", mb(breadthFirst.levelZero), "MiB", anchor: "as u32 lists", anchorValue: rawLevelZero / 1_048_576),
            BenchResult("level0_stored_mb (insertion order)", mb(insertion.levelZero), "MiB", anchor: "as u32 lists", anchorValue: rawLevelZero / 1_048_576),
            BenchResult("upper_stored_mb", mb(measured.upper), "MiB"),
            BenchResult("open_ms_warm (structure checked)", median(openWarm), "ms"),
            BenchResult("open_ms_warm (every byte checked)", median(openWarmFull), "ms"),
            BenchResult("first_query_ms_warm", median(firstWarm), "ms"),
            BenchResult("open_ms_cold", median(openCold), "ms"),
            BenchResult("first_query_ms_cold", median(firstCold), "ms"),
            BenchResult("resident_fraction_after_evict", median(evictedFraction), ""),
            BenchResult("decode_whole_graph_ms", Double(decodeAll) / 1e6, "ms"),
            BenchResult("qps mapped segment", median(segmentQPS), "q/s", anchor: "in-memory HNSW", anchorValue: median(memoryQPS)),
            BenchResult("qps mapped, rows breadth-first", median(breadthFirstQPS), "q/s", anchor: "rows in insertion order", anchorValue: median(insertionQPS)),
            BenchResult("recall@10 mapped", recall(segmentHits), "", anchor: "in-memory HNSW", anchorValue: recall(memoryHits)),
            BenchResult("rss_growth_open_mb", mb(rssAfterOpen - rssBeforeOpen), "MiB"),
            BenchResult("rss_growth_queries_mb", mb(rssAfterQueries - rssAfterOpen), "MiB"),
            BenchResult("rss_anon_growth_open_mb (not file pages)", mb(anonAfterOpen - anonBeforeOpen), "MiB"),
            BenchResult("rss_anon_growth_queries_mb (not file pages)", mb(anonAfterQueries - anonAfterOpen), "MiB"),
            BenchResult("decoded_graph_mb after the queries", mb(segment.decodedGraphBytes), "MiB"),
        ]
        summary["open_ms_warm"] = median(openWarm)
        summary["open_ms_warm_full_verification"] = median(openWarmFull)
        summary["first_query_ms_cold"] = median(firstCold)
        summary["first_query_ms_warm"] = median(firstWarm)
        summary["segment_qps_ratio_vs_memory"] = median(segmentQPS) / median(memoryQPS)
        summary["reordering_qps_ratio"] = median(breadthFirstQPS) / median(insertionQPS)
        summary["graph_compression_ratio"] = rawLevelZero / Double(measured.levelZero)
        summary["graph_compression_ratio_breadth_first"] = rawLevelZero / Double(breadthFirst.levelZero)
        summary["graph_compression_ratio_insertion_order"] = rawLevelZero / Double(insertion.levelZero)
        summary["disk_ratio_vs_raw"] = Double(measured.file) / rawVectors
        summary["build_s"] = buildSeconds
        summary["flush_s"] = flushSeconds

        if anchors != "none" {
            let out = workDir + "/anchors.json"
            try runPython([
                anchorScript, "--base", files.base, "--queries", files.queries, "--groundtruth", files.truth,
                "--workdir", workDir, "--out", out, "--m", String(m), "--ef-construction", String(efConstruction),
                "--ef", String(ef), "--k", String(k), "--build-threads", String(threads), "--repeats", String(repeats),
                "--libs", anchors,
            ])
            let report = try JSONDecoder().decode(SegmentAnchorReport.self, from: Data(contentsOf: URL(fileURLWithPath: out)))
            for row in report.results {
                results += [
                    BenchResult("\(row.lib) open_ms_warm", row.open_ms_warm, "ms", anchor: "ours", anchorValue: median(openWarm)),
                    BenchResult("\(row.lib) first_query_ms_warm", row.first_query_ms_warm, "ms", anchor: "ours", anchorValue: median(firstWarm)),
                    BenchResult("\(row.lib) open_ms_cold", row.open_ms_cold, "ms", anchor: "ours", anchorValue: median(openCold)),
                    BenchResult("\(row.lib) first_query_ms_cold", row.first_query_ms_cold, "ms", anchor: "ours", anchorValue: median(firstCold)),
                    BenchResult("\(row.lib) qps", row.qps, "q/s", anchor: "ours mapped", anchorValue: median(segmentQPS)),
                    BenchResult("\(row.lib) recall@10", row.recall, "", anchor: "ours mapped", anchorValue: recall(segmentHits)),
                    BenchResult("\(row.lib) file_mb", mb(row.file_bytes), "MiB", anchor: "ours", anchorValue: mb(measured.file)),
                    BenchResult("\(row.lib) rss_growth_open_mb", row.rss_growth_open_mb, "MiB", anchor: "ours", anchorValue: mb(rssAfterOpen - rssBeforeOpen)),
                    BenchResult("\(row.lib) rss_growth_queries_mb", row.rss_growth_queries_mb, "MiB", anchor: "ours", anchorValue: mb(rssAfterQueries - rssAfterOpen)),
                    BenchResult("\(row.lib) rss_anon_growth_queries_mb", row.rss_anon_growth_queries_mb ?? .nan, "MiB", anchor: "ours", anchorValue: mb(anonAfterQueries - anonAfterOpen)),
                    BenchResult("\(row.lib) build_s", row.build_s, "s", anchor: "ours", anchorValue: buildSeconds,
                                note: row.build_cached ? "built in an earlier run" : nil),
                ]
                let key = row.lib.split(separator: "-").first.map(String.init) ?? row.lib
                summary["first_query_cold_ratio_vs_\(key)"] = median(firstCold) / row.first_query_ms_cold
                summary["open_warm_ratio_vs_\(key)"] = median(openWarm) / row.open_ms_warm
                summary["qps_ratio_vs_\(key)"] = median(segmentQPS) / row.qps
            }
        }

        let report = BenchReport(suite: "segments", machine: .current(kernels: Kernels.active.level.description), results: results, summary: summary)
        report.printTable()
        if let json { try report.write(json: json) }
    }

    struct OpenTimings {
        var openWarm: [Double] = [], firstWarm: [Double] = [], openWarmFull: [Double] = []
        var openCold: [Double] = [], firstCold: [Double] = [], evicted: [Double] = []
    }

    /// Per probe: the file read into the page cache, then opened (structure
    /// checked) and searched once, then opened with every byte checked; then
    /// the file evicted, opened and searched once.
    private func openAndFirstQuery(_ path: String, probes: [[Float]], k: Int) throws -> OpenTimings {
        var t = OpenTimings()
        for probe in probes {
            do {
                _ = try Data(contentsOf: URL(fileURLWithPath: path))  // into the page cache
                let warm = try openAndSearch(path, probe, k: k)
                t.openWarm.append(warm.open)
                t.firstWarm.append(warm.search)
                let start = Clock.now()
                blackHole(try SegmentIndex(path: path, verification: .full))
                t.openWarmFull.append(Double(Clock.now() - start) / 1e6)
            }
            // Every mapping is gone now: nothing keeps the file's pages in memory.
            let status = bench_evict_file(path)
            guard status == 0 else { throw ANNBenchError("cannot evict \(path): errno \(status)") }
            t.evicted.append(bench_resident_fraction(path))
            let cold = try openAndSearch(path, probe, k: k)
            t.openCold.append(cold.open)
            t.firstCold.append(cold.search)
        }
        return t
    }

    /// Opens a segment (structure checked) and searches it once: the milliseconds of each.
    private func openAndSearch(_ path: String, _ probe: [Float], k: Int) throws -> (open: Double, search: Double) {
        var start = Clock.now()
        let segment = try SegmentIndex(path: path, verification: .structure)
        let open = Double(Clock.now() - start) / 1e6
        start = Clock.now()
        blackHole(try segment.search(probe, k: k, ef: ef))
        return (open, Double(Clock.now() - start) / 1e6)
    }

    private func runPython(_ arguments: [String]) throws {
        fflush(nil)
        let process = Process()
        try AnchorPython.require(python, set: "segments")
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ANNBenchError("\(python) \(arguments.first ?? "") exited with \(process.terminationStatus)")
        }
    }
}

/// Sizes of a segment file and of its graph sections.
struct SegmentSizes {
    let file: Int
    let levelZero: Int
    let upper: Int

    init(_ path: String) throws {
        let reader = try SegmentReader(path: path, verification: .structure)
        file = reader.fileSize
        func size(_ kind: SegmentSectionKind) -> Int { reader.sections.first { $0.kind == kind }?.length ?? 0 }
        levelZero = size(.graphLevel0) + size(.graphLevel0Index)
        upper = size(.graphUpper)
    }
}

/// What segments_anchors.py writes.
struct SegmentAnchorReport: Decodable {
    struct Row: Decodable {
        var lib: String
        var build_s: Double
        var build_cached: Bool
        var file_bytes: Int
        var open_ms_warm: Double
        var first_query_ms_warm: Double
        var open_ms_cold: Double
        var first_query_ms_cold: Double
        var qps: Double
        var recall: Double
        var rss_growth_open_mb: Double
        var rss_growth_queries_mb: Double
        var rss_anon_growth_queries_mb: Double?
    }
    var results: [Row]
}
