import ANNIndex
import ArgumentParser
import Dispatch
import Evaluation
import Foundation
import SearchCore
import Tensor

/// `mms-bench ann`: our HNSW index, in every encoding, against the field's
/// ANN libraries on the same files, in one run.
struct ANNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ann",
        abstract: "HNSW recall and QPS against hnswlib, FAISS, usearch, NGT, VSAG and ScaNN on one data set.",
        discussion: """
            --dataset clustered (default) generates (once) a seeded mixture of ~100 anisotropic clusters, \
            L2-normalised, inner product, with exact ground truth. Any other name is a real set that \
            Benchmarks/anchors/make_ann_datasets.py wrote under --data-dir (fashion-mnist-784-euclidean, \
            debian-minilm-384-angular), searched with its own metric. Our index is built in each of \
            --encodings (f32, f16, i8: with the float32 originals for re-scoring; f16-only, i8-only: without) \
            on --threads threads; Benchmarks/anchors/ann_anchors.py builds the --anchors on the same files with \
            the same M and efConstruction. Then, step by step, our index at the step's ef and every anchor at \
            the step's point of its own sweep are timed back to back (one batched search over the queries, one \
            thread), in --rounds rounds, each figure the best of its rounds. Summary: QPS interpolated at \
            recall@10 0.95 and 0.99 on each curve, ours (the best of our encodings there) ÷ the best anchor and \
            ÷ hnswlib, and memory per vector. --merge combines reports of runs that split the anchors between \
            them (each run measures ours too; every ratio is taken within one run).
            """)

    @Option(help: "Write the report as JSON to this file.") var json: String?
    @Option(help: "Write a recall-vs-QPS plot (SVG) to this file.") var plot: String?
    @Option(help: "The data set: clustered, or a set made by Benchmarks/anchors/make_ann_datasets.py.")
    var dataset = "clustered"
    @Option(help: "Where data sets live.") var dataDir = "bench-data/ann"
    @Option(help: "Use only the first N queries of a real set.") var queryLimit: Int?
    @Option(help: "clustered: base vectors.") var count = 100_000
    @Option(help: "clustered: queries.") var queries = 1_000
    @Option(help: "clustered: components per vector.") var dimension = 512
    @Option(help: "clustered: clusters in the mixture.") var clusters = 100
    @Option(help: "clustered: data set seed.") var seed: UInt64 = 42
    @Option(help: "M (hnswlib's default).") var m = 16
    @Option(help: "efConstruction (hnswlib's default).") var efConstruction = 200
    @Option(help: "Build threads.") var threads = 2
    @Option(help: "Comma-separated ef values (ours and the HNSW anchors).") var efs = "10,16,24,32,48,64,96,128,192,256,384"
    @Option(help: "Timed repetitions of each batch; the best is reported.") var repeats = 3
    @Option(help: "Rounds over every step and library; each figure is the best of its rounds.") var rounds = 2
    @Option(help: "Our encodings: f32, f16, i8 (with float32 re-scoring), f16-only, i8-only (without).")
    var encodings = "f32,f16,i8,i8-only"
    @Option(help: "The Python with the anchors installed.") var python = ".venv-bench/bin/python"
    @Option(help: "The anchor script.") var anchorScript = "Benchmarks/anchors/ann_anchors.py"
    @Flag(help: "Skip the filtered-search measurements.") var skipFiltered = false
    @Flag(help: "Also time every point on two threads.") var twoThreads = false
    @Option(help: """
        Anchors (hnswlib, faiss-hnsw, faiss-hnsw-sq8, faiss-ivf-rabitq, usearch, usearch-i8, ngt-onng, ngt-qg, \
        vsag-hgraph, scann), or 'none'.
        """)
    var anchors = "hnswlib,faiss-hnsw,faiss-hnsw-sq8,faiss-ivf-rabitq,usearch,usearch-i8,ngt-onng,ngt-qg,vsag-hgraph,scann"
    @Option(help: "Comma-separated report JSON files of earlier runs to combine (nothing is measured).")
    var merge: String?

    func run() throws {
        if let merge {
            let reports = try merge.split(separator: ",").map { path in
                try JSONDecoder().decode(ANNStoredReport.self, from: Data(contentsOf: URL(fileURLWithPath: String(path))))
            }
            let report = ANNReport.merged(reports)
            report.printTable()
            if let json { try report.write(json: json) }
            if let plot { try writePlot(report, to: plot) }
            return
        }
        let k = 10
        let efList = efs.split(separator: ",").compactMap { Int($0) }
        BLAS.threadCount = 1
        let data: ANNDataSet, files: ANNDataSet.Files, metric: Metric, title: String
        if dataset == "clustered" {
            (data, files) = try ANNDataSet.load(
                directory: dataDir, count: count, queries: queries, dimension: dimension, clusters: clusters, seed: seed,
                truthK: 100)
            metric = .innerProduct
            title = "clustered-\(count)x\(dimension)-c\(clusters)-s\(seed)"
        } else {
            let info: ANNDataSet.Info
            (data, files, metric, info) = try ANNDataSet.named(dataset, directory: dataDir, queryLimit: queryLimit)
            title = info.name
            print("source: \(info.source)")
        }
        let machine = MachineInfo.current(kernels: Kernels.active.level.description)
        print("machine: \(machine.cpu); kernels \(machine.kernels); OpenBLAS core \(machine.openblasCore)")
        print("data: \(title): \(data.count) × \(data.dimension), \(data.queryCount) queries, metric \(metric)")
        var allocsPerQuery = Double.nan
        var filtered: [ANNFilteredRow] = []
        var skipped: [ANNSkipped] = []
        // The anchors build first, in their own process; then the script waits, and each step is timed for
        // every library back to back, in `rounds` rounds, each figure the best of its rounds.
        let anchorMetric = metric == .squaredL2 ? "l2" : (metric == .cosine ? "cosine" : "ip")
        var anchorArguments = [
            anchorScript, "serve", "--base", files.base, "--queries", files.queries, "--groundtruth", files.truth,
            "--metric", anchorMetric, "--m", String(m), "--ef-construction", String(efConstruction),
            "--threads", String(threads), "--k", String(k), "--repeats", String(repeats), "--libs", anchors,
            "--efs", efs,
        ]
        if data.queryCount < data.truth.count || queryLimit != nil { anchorArguments += ["--query-limit", String(data.queryCount)] }
        if twoThreads { anchorArguments.append("--two-threads") }
        let server = anchors == "none" ? nil : try AnchorServer(python: python, arguments: anchorArguments)
        for s in server?.skipped ?? [] {
            print("\(s.lib): not measured: \(s.reason)")
            skipped.append(s)
        }
        var ours: [(lib: String, runner: ANNRunner, buildSeconds: Double, memoryMB: Double)] = []
        var bytesPerVector: [String: Double] = [:]
        for spec in encodings.split(separator: ",").map(String.init) {
            let only = spec.hasSuffix("-only")
            let base = only ? String(spec.dropLast(5)) : spec
            guard let encoding = VectorEncoding.allCases.first(where: { $0.description == base }) else {
                throw ANNBenchError("unknown encoding \(spec) (known: \(VectorEncoding.allCases.map(\.description)), each also as NAME-only)")
            }
            var configuration = HNSWIndex.Configuration()
            configuration.m = m
            configuration.efConstruction = efConstruction
            configuration.encoding = encoding
            configuration.keepsFloat32ForRescoring = !only
            configuration.buildThreads = threads
            let index = try HNSWIndex(dimension: data.dimension, metric: metric, configuration: configuration)
            let ids = (0..<data.count).map { VectorID(UInt64($0)) }
            let start = Clock.now()
            try index.add(data.base, ids: ids)
            let buildSeconds = Double(Clock.now() - start) / 1e9
            let footprint = index.memory
            let lib = "mms-\(spec)"
            bytesPerVector[lib] = Double(footprint.total) / Double(data.count)
            print("\(lib): built in \(String(format: "%.1f", buildSeconds)) s, \(footprint.total >> 20) MiB, "
                + "\(Int(bytesPerVector[lib]!)) B/vector (graph \(footprint.graph >> 20), codes \(footprint.codes >> 20), "
                + "rescoring \(footprint.rescoring >> 20) MiB)")
            let runner = ANNRunner(index: index, data: data, k: k, metric: metric)
            if encoding == .float32 {
                allocsPerQuery = try runner.allocationsPerQuery(ef: 64)
                print("  allocations per query (steady state, ef 64): \(allocsPerQuery)")
                if !skipFiltered { filtered = try runner.filtered(selectivities: [0.001, 0.01, 0.1, 0.5], ef: 64) }
            }
            ours.append((lib, runner, buildSeconds, Double(footprint.total) / 1_048_576))
        }

        var best: [String: ANNRow] = [:]
        var order: [String] = []
        func keep(_ row: ANNRow) {
            let key = "\(row.lib)/\(row.params)"
            if var old = best[key] {
                old.qps1 = max(old.qps1, row.qps1)
                old.qps2 = max(old.qps2, row.qps2)
                best[key] = old
            } else {
                best[key] = row
                order.append(key)
            }
        }
        func show(_ round: Int, _ row: ANNRow) {
            print("  round \(round) \(row.lib) \(row.params): recall \(String(format: "%.4f", row.recall)), "
                + "\(Int(row.qps1)) QPS (1 thread)" + (twoThreads ? ", \(Int(row.qps2)) (2 threads)" : ""))
        }
        var recalls: [String: Double] = [:]
        let steps = max(efList.count, server?.steps ?? 0)
        for round in 1...max(rounds, 1) {
            for step in 0..<steps {
                if step < efList.count {
                    let ef = efList[step]
                    for entry in ours {
                        let key = "\(entry.lib)/\(ef)"
                        if recalls[key] == nil { recalls[key] = try entry.runner.recall(ef: ef) }
                        let qps1 = try entry.runner.qps(ef: ef, threads: 1, repeats: repeats)
                        let qps2 = twoThreads ? try entry.runner.qps(ef: ef, threads: 2, repeats: repeats) : 0
                        let row = ANNRow(
                            lib: entry.lib, ef: ef, params: "ef=\(ef)", recall: recalls[key]!, qps1: qps1, qps2: qps2,
                            buildSeconds: entry.buildSeconds, memoryMB: entry.memoryMB,
                            bytesPerVector: bytesPerVector[entry.lib]!)
                        keep(row)
                        show(round, row)
                    }
                }
                if let server {
                    for row in try server.measure(step: step, count: data.count) {
                        keep(row)
                        show(round, row)
                    }
                }
            }
        }
        server?.quit()
        let libs = order.map { best[$0]!.lib }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let rows = order.map { best[$0]! }.sorted { a, b in
            let (ra, rb) = (libs.firstIndex(of: a.lib)!, libs.firstIndex(of: b.lib)!)
            return ra != rb ? ra < rb : a.recall < b.recall
        }
        let report = ANNReport(
            suite: "ann", dataset: title, machine: machine, versions: server?.versions ?? [:], results: rows,
            filtered: filtered, skipped: skipped, summary: ANNSummary.compute(runs: [rows], allocsPerQuery: allocsPerQuery))
        report.printTable()
        if let json { try report.write(json: json) }
        if let plot { try writePlot(report, to: plot) }
    }

    private func writePlot(_ report: ANNReport, to path: String) throws {
        let combined = path + ".json"
        try report.write(json: combined)
        try runPython([
            anchorScript, "plot", "--results", combined, "--out", path, "--title",
            "\(report.dataset): recall@10 vs QPS, one thread, M=\(m), efC=\(efConstruction) — \(report.machine.cpu)",
        ])
        try? FileManager.default.removeItem(atPath: combined)
    }

    private func runPython(_ arguments: [String]) throws {
        fflush(nil)  // our lines first, then the script's (nil flushes every output stream)
        let process = Process()
        try AnchorPython.require(python, set: "ann")
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ANNBenchError("\(python) \(arguments.prefix(2).joined(separator: " ")) exited with \(process.terminationStatus)")
        }
    }
}

/// An anchor the run could not measure, and why.
struct ANNSkipped: Codable {
    var lib: String
    var reason: String
}

/// One point of one library's curve.
struct ANNRow: Codable {
    var lib: String
    /// Ours and the HNSW anchors: the ef; 0 where the sweep has another knob (see `params`).
    var ef: Int
    /// The point's search parameters as the library names them.
    var params: String
    var recall: Double
    var qps1: Double
    /// 0 when not measured.
    var qps2: Double
    var buildSeconds: Double
    var memoryMB: Double
    var bytesPerVector: Double

    enum CodingKeys: String, CodingKey {
        case lib, ef, params, recall, qps1, qps2
        case buildSeconds = "build_s"
        case memoryMB = "memory_mb"
        case bytesPerVector = "bytes_per_vector"
    }
}

/// Times batched searches on one index, allocation-free: buffers made once.
///
/// `@unchecked Sendable`: its stored properties are constants; the two
/// threads of a timed run write disjoint query ranges of `hits` and `counts`.
final class ANNRunner: @unchecked Sendable {
    let index: HNSWIndex
    let data: ANNDataSet
    let k: Int
    let metric: Metric
    let hits: UnsafeMutablePointer<SearchHit>
    let counts: UnsafeMutablePointer<Int>

    init(index: HNSWIndex, data: ANNDataSet, k: Int, metric: Metric) {
        self.index = index
        self.metric = metric
        self.data = data
        self.k = k
        hits = .allocate(capacity: data.queryCount * k)
        hits.initialize(repeating: SearchHit(id: 0, distance: 0), count: data.queryCount * k)
        counts = .allocate(capacity: data.queryCount)
        counts.initialize(repeating: 0, count: data.queryCount)
    }

    deinit {
        hits.deallocate()
        counts.deallocate()
    }

    /// Searches queries `range` into the shared buffers (disjoint parts per thread).
    func search(_ range: Range<Int>, ef: Int) throws {
        let d = data.dimension
        try data.queries.withUnsafeBufferPointer { queries in
            try index.search(
                batch: UnsafeBufferPointer(rebasing: queries[(range.lowerBound * d)..<(range.upperBound * d)]), k: k,
                ef: ef, filter: NoFilter(),
                into: UnsafeMutableBufferPointer(start: hits + range.lowerBound * k, count: range.count * k),
                counts: UnsafeMutableBufferPointer(start: counts + range.lowerBound, count: range.count))
        }
    }

    /// Recall@k against the exact neighbours, as Evaluation defines it (the
    /// same measure the tests use).
    func recall(ef: Int) throws -> Double {
        let n = data.queryCount
        try search(0..<n, ef: ef)
        let retrieved = (0..<n).map { q in (0..<counts[q]).map { hits[q * k + $0].id } }
        let exact = (0..<n).map { q in data.truth[q].prefix(k).map { VectorID(UInt64($0)) } }
        return try Recall.atK(retrieved, exact: exact, k: k).mean
    }

    /// Best-of-`repeats` queries per second, the batch split over `threads` threads.
    func qps(ef: Int, threads: Int, repeats: Int) throws -> Double {
        let n = data.queryCount
        func once() throws -> Double {
            let start = Clock.now()
            if threads == 1 {
                try search(0..<n, ef: ef)
            } else {
                // One dedicated thread per share (libdispatch may run a short apply on fewer threads).
                let done = DispatchSemaphore(value: 0)
                for t in 0..<threads {
                    let thread = Thread {
                        try? self.search((t * n / threads)..<((t + 1) * n / threads), ef: ef)
                        done.signal()
                    }
                    thread.start()
                }
                for _ in 0..<threads { done.wait() }
            }
            return Double(Clock.now() - start) / 1e9
        }
        _ = try once()
        var best = Double.infinity
        for _ in 0..<repeats { best = min(best, try once()) }
        return Double(n) / best
    }

    /// Heap allocations per query over one steady-state batch on one thread.
    func allocationsPerQuery(ef: Int) throws -> Double {
        let n = data.queryCount
        try search(0..<n, ef: ef)  // warm the scratch pool
        var failure: Error?
        let allocations = AllocationCounter.measure {
            do { try search(0..<n, ef: ef) } catch { failure = error }
        }
        if let failure { throw failure }
        return Double(allocations) / Double(n)
    }
}

/// Filtered search on our f32 index at one selectivity.
struct ANNFilteredRow: Codable {
    var selectivity: Double
    var allowed: Int
    var recall: Double
    var qps1: Double
    /// Queries that got exactly min(k, allowed) hits.
    var exactCountFraction: Double

    enum CodingKeys: String, CodingKey {
        case selectivity, allowed, recall, qps1
        case exactCountFraction = "exact_count_fraction"
    }
}

extension ANNRunner {
    /// Recall@k and QPS of allow-list searches at each selectivity, against
    /// the exact filtered answer from ``FlatIndex``.
    func filtered(selectivities: [Double], ef: Int) throws -> [ANNFilteredRow] {
        let n = data.count, q = data.queryCount, d = data.dimension
        let flat = FlatIndex(dimension: d, metric: metric)
        try flat.add(data.base, ids: (0..<n).map { VectorID(UInt64($0)) })
        var exactHits = [SearchHit](repeating: SearchHit(id: 0, distance: 0), count: q * k)
        var exactCounts = [Int](repeating: 0, count: q)
        var rows: [ANNFilteredRow] = []
        var random = ANNRandom(seed: 7)
        for selectivity in selectivities {
            let allowedCount = max(1, Int(Double(n) * selectivity))
            let filter = AllowList((0..<n).shuffled(using: &random).prefix(allowedCount).map { VectorID(UInt64($0)) })
            try data.queries.withUnsafeBufferPointer { queries in
                try exactHits.withUnsafeMutableBufferPointer { hits in
                    try exactCounts.withUnsafeMutableBufferPointer { counts in
                        try flat.search(batch: queries, k: k, filter: filter, into: hits, counts: counts)
                    }
                }
            }
            func run() throws {
                try data.queries.withUnsafeBufferPointer { queries in
                    try index.search(
                        batch: queries, k: k, ef: ef, filter: filter,
                        into: UnsafeMutableBufferPointer(start: hits, count: q * k),
                        counts: UnsafeMutableBufferPointer(start: counts, count: q))
                }
            }
            try run()
            var found = 0, exactCount = 0
            for i in 0..<q {
                let truth = Set(exactHits[(i * k)..<(i * k + exactCounts[i])].map(\.id))
                for j in 0..<counts[i] where truth.contains(hits[i * k + j].id) { found += 1 }
                if counts[i] == min(k, allowedCount) { exactCount += 1 }
            }
            let recall = Double(found) / Double(exactCounts.reduce(0, +))
            var best = Double.infinity
            for _ in 0..<3 {
                let start = Clock.now()
                try run()
                best = min(best, Double(Clock.now() - start) / 1e9)
            }
            rows.append(ANNFilteredRow(
                selectivity: selectivity, allowed: allowedCount, recall: recall, qps1: Double(q) / best,
                exactCountFraction: Double(exactCount) / Double(q)))
            print("  filtered \(selectivity * 100)% (\(allowedCount) allowed), ef \(ef): recall \(String(format: "%.4f", recall)), "
                + "\(Int(Double(q) / best)) QPS, exactly min(k, allowed) hits for \(exactCount)/\(q) queries")
        }
        return rows
    }
}

/// The anchor script in `serve` mode: it builds the anchors once, then times
/// them at the sweep step we ask for, so both sides are measured back to back.
final class AnchorServer {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffer = Data()
    private(set) var builds: [String: Ready.Build] = [:]
    private(set) var skipped: [ANNSkipped] = []
    private(set) var versions: [String: String] = [:]
    /// The longest anchor sweep.
    private(set) var steps = 0

    struct Ready: Decodable {
        struct Build: Decodable {
            var lib: String
            var build_s: Double
            var memory_mb: Double
            var steps: [String]
        }
        var builds: [Build]
        var skipped: [ANNSkipped]
        var versions: [String: String]
    }

    struct Measured: Decodable {
        struct Row: Decodable {
            var lib: String
            var params: String
            var recall: Double
            var qps1: Double
            var qps2: Double
        }
        var step: Int
        var results: [Row]
    }

    init(python: String, arguments: [String]) throws {
        fflush(nil)
        try AnchorPython.require(python, set: "ann")
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let ready = try JSONDecoder().decode(Ready.self, from: try readLine())
        for b in ready.builds { builds[b.lib] = b }
        skipped = ready.skipped
        versions = ready.versions
        steps = ready.builds.map(\.steps.count).max() ?? 0
    }

    /// One JSON line from the script.
    private func readLine() throws -> Data {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[buffer.startIndex..<newline]
                buffer.removeSubrange(buffer.startIndex...newline)
                return Data(line)
            }
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw ANNBenchError("the anchor script ended early (status \(process.isRunning ? -1 : process.terminationStatus))") }
            buffer.append(chunk)
        }
    }

    /// Every anchor's point at `step` of its sweep; `count` base vectors (for memory per vector).
    func measure(step: Int, count: Int) throws -> [ANNRow] {
        input.fileHandleForWriting.write(Data("measure \(step)\n".utf8))
        let measured = try JSONDecoder().decode(Measured.self, from: try readLine())
        return measured.results.map { r in
            let build = builds[r.lib]
            let memoryMB = build?.memory_mb ?? .nan
            return ANNRow(
                lib: r.lib, ef: r.params.allSatisfy(\.isNumber) ? Int(r.params) ?? 0 : 0,
                params: r.params.allSatisfy(\.isNumber) ? "ef=\(r.params)" : r.params, recall: r.recall, qps1: r.qps1,
                qps2: r.qps2, buildSeconds: build?.build_s ?? .nan, memoryMB: memoryMB,
                bytesPerVector: memoryMB * 1_048_576 / Double(count))
        }
    }

    func quit() {
        input.fileHandleForWriting.write(Data("quit\n".utf8))
        process.waitUntilExit()
    }
}
