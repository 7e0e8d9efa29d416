import ANNIndex
import ArgumentParser
import Dispatch
import Evaluation
import Foundation
import SearchCore
import Tensor

/// `mms-bench ann`: our HNSW index (f32, f16, i8 with re-scoring) against
/// hnswlib, FAISS and usearch on the same files, in one run.
struct ANNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ann",
        abstract: "HNSW recall and QPS against hnswlib, FAISS and usearch on a seeded 100k × 512 clustered set.",
        discussion: """
            Generates (once) a mixture of ~100 anisotropic clusters, L2-normalised, with exact ground truth, as
            fvecs/ivecs under --data-dir; builds our index in f32, f16 and i8 (+ f32 re-scoring) on --threads
            threads; times one batched search over all queries on one thread and on two for each ef; then runs
            Benchmarks/anchors/ann_anchors.py on the same files with the same M and efConstruction.
            """)

    @Option(help: "Write the report as JSON to this file.") var json: String?
    @Option(help: "Write a recall-vs-QPS plot (PNG) to this file.") var plot: String?
    @Option(help: "Where the data set's fvecs/ivecs live.") var dataDir = "bench-data/ann"
    @Option(help: "Base vectors.") var count = 100_000
    @Option(help: "Queries.") var queries = 1_000
    @Option(help: "Components per vector.") var dimension = 512
    @Option(help: "Clusters in the mixture.") var clusters = 100
    @Option(help: "Data set seed.") var seed: UInt64 = 42
    @Option(help: "M (hnswlib's default).") var m = 16
    @Option(help: "efConstruction (hnswlib's default).") var efConstruction = 200
    @Option(help: "Build threads.") var threads = 2
    @Option(help: "Comma-separated ef values.") var efs = "16,32,64,128,256"
    @Option(help: "Timed repetitions of each batch; the best is reported.") var repeats = 3
    @Option(help: "Rounds over every ef and library; each figure is the best of its rounds.") var rounds = 2
    @Option(help: "Our encodings to run (f32,f16,i8,i8-only: int8 without float32 originals, re-ranked from int8).") var encodings = "f32,f16,i8"
    @Option(help: "The Python with the anchors installed.") var python = ".venv-bench/bin/python"
    @Option(help: "The anchor script.") var anchorScript = "Benchmarks/anchors/ann_anchors.py"
    @Flag(help: "Skip the filtered-search measurements.") var skipFiltered = false
    @Option(help: "Anchors to run (faiss,usearch,usearch-i8,hnswlib), or 'none'.") var anchors = "faiss,usearch,usearch-i8,hnswlib"

    func run() throws {
        let k = 10
        let efList = efs.split(separator: ",").compactMap { Int($0) }
        BLAS.threadCount = 1
        print("data: \(count) × \(dimension), \(queries) queries, \(clusters) clusters, seed \(seed)")
        let (data, files) = try ANNDataSet.load(
            directory: dataDir, count: count, queries: queries, dimension: dimension, clusters: clusters, seed: seed,
            truthK: 100)
        var allocsPerQuery = Double.nan
        var memory: [String: HNSWIndex.MemoryFootprint] = [:]
        var filtered: [ANNFilteredRow] = []
        // The anchors build first, in their own process, hnswlib last, so that its build and ours
        // run back to back; then the script waits, and each ef is timed for every library back to
        // back, in `rounds` rounds, each figure the best of its rounds.
        let server = anchors == "none" ? nil : try AnchorServer(
            python: python,
            arguments: [
                anchorScript, "serve", "--base", files.base, "--queries", files.queries, "--groundtruth", files.truth,
                "--m", String(m), "--ef-construction", String(efConstruction), "--threads", String(threads),
                "--k", String(k), "--repeats", String(repeats), "--libs", anchors,
            ])
        var ours: [(lib: String, runner: ANNRunner, buildSeconds: Double, memoryMB: Double)] = []
        for name in encodings.split(separator: ",").map(String.init) {
            let encoding: VectorEncoding
            var keepsFloat32 = true
            switch name {
            case "f32": encoding = .float32
            case "f16": encoding = .float16
            case "i8": encoding = .int8
            case "i8-only": (encoding, keepsFloat32) = (.int8, false)
            default: throw ANNBenchError("unknown encoding \(name)")
            }
            var configuration = HNSWIndex.Configuration()
            configuration.keepsFloat32ForRescoring = keepsFloat32
            configuration.m = m
            configuration.efConstruction = efConstruction
            configuration.encoding = encoding
            configuration.buildThreads = threads
            let index = try HNSWIndex(dimension: dimension, metric: .innerProduct, configuration: configuration)
            let ids = (0..<data.count).map { VectorID(UInt64($0)) }
            let start = Clock.now()
            try index.add(data.base, ids: ids)
            let buildSeconds = Double(Clock.now() - start) / 1e9
            let footprint = index.memory
            memory[name] = footprint
            let lib = "mms-\(name)"
            print("\(lib): built in \(String(format: "%.1f", buildSeconds)) s, \(footprint.total >> 20) MiB "
                + "(graph \(footprint.graph >> 20), codes \(footprint.codes >> 20), rescoring \(footprint.rescoring >> 20))")
            let runner = ANNRunner(index: index, data: data, k: k)
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
            let key = "\(row.lib)/\(row.ef)"
            if var old = best[key] {
                old.qps1 = max(old.qps1, row.qps1)
                old.qps2 = max(old.qps2, row.qps2)
                best[key] = old
            } else {
                best[key] = row
                order.append(key)
            }
        }
        var recalls: [String: Double] = [:]
        for round in 1...max(rounds, 1) {
            for ef in efList {
                for entry in ours {
                    let key = "\(entry.lib)/\(ef)"
                    if recalls[key] == nil { recalls[key] = try entry.runner.recall(ef: ef) }
                    let qps1 = try entry.runner.qps(ef: ef, threads: 1, repeats: repeats)
                    let qps2 = try entry.runner.qps(ef: ef, threads: 2, repeats: repeats)
                    keep(ANNRow(
                        lib: entry.lib, ef: ef, recall: recalls[key]!, qps1: qps1, qps2: qps2,
                        buildSeconds: entry.buildSeconds, memoryMB: entry.memoryMB))
                    print("  round \(round) \(entry.lib) ef=\(ef): recall \(String(format: "%.4f", recalls[key]!)), "
                        + "\(Int(qps1)) QPS (1 thread), \(Int(qps2)) (2 threads)")
                }
                if let server {
                    for row in try server.measure(ef: ef) {
                        keep(row)
                        print("  round \(round) \(row.lib) ef=\(ef): recall \(String(format: "%.4f", row.recall)), "
                            + "\(Int(row.qps1)) QPS (1 thread), \(Int(row.qps2)) (2 threads)")
                    }
                }
            }
        }
        server?.quit()
        let rows = order.sorted { a, b in
            let (la, lb) = (best[a]!.lib, best[b]!.lib)
            let rank = { (lib: String) in order.firstIndex { best[$0]!.lib == lib }! }
            return rank(la) != rank(lb) ? rank(la) < rank(lb) : best[a]!.ef < best[b]!.ef
        }.map { best[$0]! }

        let summary = ANNSummary.compute(rows: rows, memory: memory, allocsPerQuery: allocsPerQuery)
        let report = ANNReport(
            suite: "ann", machine: MachineInfo.current(kernels: Kernels.active.level.description), results: rows,
            filtered: filtered, summary: summary)
        report.printTable()
        if let json {
            try report.write(json: json)
        }
        if let plot {
            let combined = dataDir + "/ann-combined.json"
            try report.write(json: combined)
            try runPython([anchorScript, "plot", "--results", combined, "--out", plot])
        }
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

/// One point of one library's curve.
struct ANNRow: Codable {
    var lib: String
    var ef: Int
    var recall: Double
    var qps1: Double
    var qps2: Double
    var buildSeconds: Double
    var memoryMB: Double

    enum CodingKeys: String, CodingKey {
        case lib, ef, recall, qps1, qps2
        case buildSeconds = "build_s"
        case memoryMB = "memory_mb"
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
    let hits: UnsafeMutablePointer<SearchHit>
    let counts: UnsafeMutablePointer<Int>

    init(index: HNSWIndex, data: ANNDataSet, k: Int) {
        self.index = index
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
        let flat = FlatIndex(dimension: d, metric: .innerProduct)
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
/// them at the ef we ask for, so both sides are measured back to back.
final class AnchorServer {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffer = Data()
    private(set) var builds: [String: (buildSeconds: Double, memoryMB: Double)] = [:]

    struct Ready: Decodable {
        struct Build: Decodable {
            var lib: String
            var build_s: Double
            var memory_mb: Double
        }
        var builds: [Build]
    }

    struct Measured: Decodable {
        struct Row: Decodable {
            var lib: String
            var ef: Int
            var recall: Double
            var qps1: Double
            var qps2: Double
        }
        var ef: Int
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
        for b in ready.builds { builds[b.lib] = (b.build_s, b.memory_mb) }
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

    func measure(ef: Int) throws -> [ANNRow] {
        input.fileHandleForWriting.write(Data("measure \(ef)\n".utf8))
        let measured = try JSONDecoder().decode(Measured.self, from: try readLine())
        return measured.results.map { r in
            let build = builds[r.lib] ?? (.nan, .nan)
            return ANNRow(
                lib: r.lib, ef: r.ef, recall: r.recall, qps1: r.qps1, qps2: r.qps2, buildSeconds: build.buildSeconds,
                memoryMB: build.memoryMB)
        }
    }

    func quit() {
        input.fileHandleForWriting.write(Data("quit\n".utf8))
        process.waitUntilExit()
    }
}
