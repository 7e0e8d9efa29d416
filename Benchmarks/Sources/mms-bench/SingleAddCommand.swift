import ANNIndex
import ArgumentParser
import Foundation
import SearchCore
import Tensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `mms-bench single-add`: adding N vectors one call each against adding the
/// same N in one call, to show that the single-item path costs what the
/// batch path costs per vector (issue #19, item 3).
struct SingleAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "single-add",
        abstract: "HNSWIndex.add one vector per call against one call for all: time ratio and recall@10.",
        discussion: """
            Draws --count clustered, L2-normalised vectors (100 anisotropic clusters, as `ann`), adds them one
            call each to one HNSWIndex and in one call to another (inner product, default configuration: M 16,
            efConstruction 200, one build thread), and reports both times, their ratio (single_add_ratio, one
            call each ÷ one call; target ≤ 1.5), the time per single add in the first and last tenth of the
            stream, and recall@10 of both indexes at the default ef against exact search on --queries queries.
            """)

    @Option(help: "Write the report as JSON to this file.") var json: String?
    @Option(help: "Vectors to add.") var count = 100_000
    @Option(help: "Components per vector.") var dimension = 384
    @Option(help: "Queries for recall@10.") var queries = 200
    @Option(help: "Data set seed.") var seed: UInt64 = 42

    func run() throws {
        BLAS.threadCount = 1
        let machine = MachineInfo.current(kernels: Kernels.active.level.description)
        print("single-add: \(count) × \(dimension), \(queries) queries, seed \(seed) — \(machine.cpu); "
            + "kernels \(machine.kernels); OpenBLAS core \(machine.openblasCore)")
        let measured = try measureSingleAdd(count: count, dimension: dimension, seed: seed, queries: queries, log: true)
        let report = BenchReport(suite: "single-add", machine: machine, results: measured.results, summary: measured.summary)
        report.printTable()
        if let json { try report.write(json: json) }
    }
}

/// What ``measureSingleAdd(count:dimension:seed:queries:metric:configuration:log:)`` measured.
struct SingleAddResult {
    var count: Int
    var dimension: Int
    /// Seconds to add every vector with one `add` call each.
    var singleSeconds: Double
    /// Seconds to add the same vectors with one `add` call.
    var oneCallSeconds: Double
    /// The same two as CPU time of the adding thread: less inflated than wall
    /// time when other processes share the cores (both paths run on that one thread).
    var singleCPUSeconds: Double
    var oneCallCPUSeconds: Double
    /// Mean microseconds per single add over the first and the last tenth of the stream.
    var firstTenthMicroseconds: Double
    var lastTenthMicroseconds: Double
    /// Mean recall@10 at the default ef against exact search.
    var singleRecall: Double
    var oneCallRecall: Double

    /// One call each ÷ one call (target ≤ 1.5).
    var ratio: Double { singleSeconds / oneCallSeconds }

    /// The rows of the suite's report.
    var results: [BenchResult] {
        [
            BenchResult("add_s (one call per vector)", singleSeconds, "s", anchor: "one call for all", anchorValue: oneCallSeconds),
            BenchResult("add_cpu_s (one call per vector, thread CPU time)", singleCPUSeconds, "s",
                        anchor: "one call for all", anchorValue: oneCallCPUSeconds),
            BenchResult("add_us_per_vector (one call per vector)", singleSeconds / Double(count) * 1e6, "µs",
                        anchor: "one call for all", anchorValue: oneCallSeconds / Double(count) * 1e6),
            BenchResult("single_add_us (last tenth of the stream)", lastTenthMicroseconds, "µs",
                        anchor: "first tenth", anchorValue: firstTenthMicroseconds),
            BenchResult("recall@10 (one call per vector)", singleRecall, "", anchor: "one call for all", anchorValue: oneCallRecall),
        ]
    }

    /// The suite's summary figures.
    var summary: [String: Double] {
        [
            "single_add_ratio": ratio,
            "single_add_cpu_ratio": singleCPUSeconds / oneCallCPUSeconds,
            "single_add_s": singleSeconds,
            "one_call_s": oneCallSeconds,
            "single_add_us_first_tenth": firstTenthMicroseconds,
            "single_add_us_last_tenth": lastTenthMicroseconds,
            "recall_at_10_single_add": singleRecall,
            "recall_at_10_one_call": oneCallRecall,
        ]
    }
}

/// Adds `count` seeded clustered, normalised vectors to one ``HNSWIndex`` one
/// call each and to another in one call, timing both, and measures recall@10
/// of both (at the configuration's `efSearch`) against exact search on
/// `queries` queries from the same mixture.
///
/// - Parameters:
///   - configuration: both indexes' configuration; the default is the
///     library's (M 16, efConstruction 200, one build thread), so the two
///     paths differ only in how the vectors arrive.
///   - log: print progress (the data set, each tenth of the single adds).
func measureSingleAdd(
    count: Int, dimension: Int, seed: UInt64, queries: Int = 200, metric: Metric = .innerProduct,
    configuration: HNSWIndex.Configuration = HNSWIndex.Configuration(), log: Bool = false
) throws -> SingleAddResult {
    precondition(count >= 10 && dimension >= 1 && queries >= 1, "single-add needs at least 10 vectors and 1 query")
    var random = ANNRandom(seed: seed)
    let mixture = ANNDataSet.Mixture(dimension: dimension, clusters: 100, random: &random)
    let base = mixture.draw(count, random: &random)
    let queryRows = mixture.draw(queries, random: &random)
    let ids = (0..<count).map { VectorID(UInt64($0)) }
    if log { print("  drew \(count) + \(queries) vectors") }

    let single = try HNSWIndex(dimension: dimension, metric: metric, configuration: configuration)
    let tenth = count / 10
    var tenths: [Double] = []
    let singleStart = Clock.now()
    let singleCPUStart = threadCPUNanoseconds()
    var tenthStart = singleStart
    try base.withUnsafeBufferPointer { all in
        for i in 0..<count {
            try single.add(UnsafeBufferPointer(rebasing: all[(i * dimension)..<((i + 1) * dimension)]), ids: [ids[i]])
            if (i + 1) % tenth == 0 {
                let now = Clock.now()
                tenths.append(Double(now - tenthStart) / Double(tenth) / 1e3)
                tenthStart = now
                if log {
                    print("  single adds \(i + 1): \(String(format: "%.1f", tenths.last!)) µs per add over the last \(tenth)")
                }
            }
        }
    }
    let singleSeconds = Double(Clock.now() - singleStart) / 1e9
    let singleCPUSeconds = Double(threadCPUNanoseconds() - singleCPUStart) / 1e9

    let oneCall = try HNSWIndex(dimension: dimension, metric: metric, configuration: configuration)
    let oneCallStart = Clock.now()
    let oneCallCPUStart = threadCPUNanoseconds()
    try oneCall.add(base, ids: ids)
    let oneCallSeconds = Double(Clock.now() - oneCallStart) / 1e9
    let oneCallCPUSeconds = Double(threadCPUNanoseconds() - oneCallCPUStart) / 1e9
    if log {
        print("  one call per vector \(String(format: "%.1f", singleSeconds)) s (CPU \(String(format: "%.1f", singleCPUSeconds))), "
            + "one call \(String(format: "%.1f", oneCallSeconds)) s (CPU \(String(format: "%.1f", oneCallCPUSeconds)))")
    }

    let exact = FlatIndex(dimension: dimension, metric: metric)
    try exact.add(base, ids: ids)
    let k = 10
    var foundSingle = 0
    var foundOneCall = 0
    var relevant = 0
    for q in 0..<queries {
        let query = Array(queryRows[(q * dimension)..<((q + 1) * dimension)])
        let truth = Set(try exact.search(query, k: k).map(\.id))
        relevant += truth.count
        foundSingle += try single.search(query, k: k, ef: configuration.efSearch).filter { truth.contains($0.id) }.count
        foundOneCall += try oneCall.search(query, k: k, ef: configuration.efSearch).filter { truth.contains($0.id) }.count
    }
    return SingleAddResult(
        count: count, dimension: dimension, singleSeconds: singleSeconds, oneCallSeconds: oneCallSeconds,
        singleCPUSeconds: singleCPUSeconds, oneCallCPUSeconds: oneCallCPUSeconds,
        firstTenthMicroseconds: tenths.first ?? .nan, lastTenthMicroseconds: tenths.last ?? .nan,
        singleRecall: Double(foundSingle) / Double(max(relevant, 1)),
        oneCallRecall: Double(foundOneCall) / Double(max(relevant, 1)))
}

/// CPU time consumed by the calling thread, in nanoseconds.
private func threadCPUNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}
