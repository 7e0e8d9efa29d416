import ANNIndex
import ArgumentParser
import Evaluation
import Foundation
import MultimodalSearch
import Ranking
import SearchCore
import Tensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `mms bakeoff FILE`: every candidate configuration built, queried and
/// timed on the same pictures and judgements, compared with the baseline,
/// optionally gated.
struct BakeoffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bakeoff",
        abstract: "Run a bake-off: candidates' quality, significance, latency and cost on the same queries; optionally a gate.",
        discussion: """
            FILE is JSON: the pictures, the queries (category folders or a qrels file), the measures, the
            concurrency and passes of the timing, the baseline and each candidate's settings — encoding
            (float32, float16, int8), m, efConstruction, ef, keyword (a BM25 index beside the vectors: hybrid
            search), candidatesPerRetriever, fusion (rrf, minmax, zscore, dbsf), engagementStrength, engagement (simulated sessions), textModel, rerankers (mmr,
            collapse) — and optionally a gate file.
            Each candidate's collection is built under the work folder and reused while its build settings
            are unchanged; simulated engagement is recorded once, when its collection is built. Every
            candidate is queried once for quality, then once untimed and `passes` times timed at the stated
            concurrency with the query-embedding cache off, so every query pays for its encoding: p50/p95/p99 latency, queries/s, CPU-seconds per thousand queries (getrusage) and, on
            Linux, the process's peak resident memory while the candidate was open (VmHWM after resetting it).

            A gate file holds rules, each for every candidate unless it names some:
              {"rules": [
                {"measure": "ndcg_cut_10", "maxDrop": 0.01, "confidence": 0.95},
                {"latency": "p99", "maxMilliseconds": 20},
                {"maxCPUSecondsPerThousandQueries": 5},
                {"maxPeakMemoryMB": 800, "candidates": ["int8"]}]}
            A quality rule passes only when the one-sided lower confidence bound of the mean difference
            (candidate − baseline, bootstrap) is at least −maxDrop. The exit status is 1 when a rule fails.
            """)

    @Argument(help: "The bake-off description (JSON).") var file: String
    @OptionGroup var models: ModelOptions
    @Option(help: "A gate file; overrides the description's.") var gate: String?
    @Option(help: "Write the HTML report here.") var html: String?
    @Option(help: "Write the figures as JSON here.") var json: String?

    func run() async throws {
        let (description, base) = try BakeoffDescription.load(file)
        let resolve = { (path: String) in path.hasPrefix("/") ? path : base.appendingPathComponent(path).path }
        let defaultConfiguration = try await models.configuration()
        let catalog = try FolderCatalog(root: URL(fileURLWithPath: resolve(description.pictures)))
        let queries = try BakeoffQueries(description: description, catalog: catalog, resolve: resolve)
        let measures = try parseMeasures(description.measures ?? [])
        let k = description.k ?? 10
        let seed = description.seed ?? 42
        let work = resolve(description.work ?? ".bakeoff")
        let baselineName = description.baseline ?? description.candidates[0].name
        print("bake-off: \(catalog.entries.count) pictures, \(queries.cases.count) queries, \(description.candidates.count) candidates; \(machineLine())")

        let cache = EmbeddingCache()  // captions and pictures embedded once for every candidate
        var reports: [String: EvaluationReport] = [:]
        var costs: [String: RunCost] = [:]
        for candidate in description.candidates {
            resetPeakMemory()
            var configuration = defaultConfiguration
            if let textModel = candidate.textModel {
                var own = models
                own.textModel = resolve(textModel)
                configuration = try await own.configuration()
            }
            configuration.rerankers = try rerankers(candidate, configuration: configuration, catalog: catalog)
            let engine = try await build(
                candidate, configuration: configuration, catalog: catalog, work: work, cache: cache, queries: queries, k: k,
                seed: seed)
            var run = try Run(name: candidate.name.replacingOccurrences(of: " ", with: "_"))
            for query in queries.cases {
                let results = try await engine.search(SearchQuery(text: query.text, k: k))
                for result in results {
                    try run.append(document: String(result.id.rawValue), score: result.score, query: query.id)
                }
            }
            reports[candidate.name] = try run.evaluate(against: queries.qrels, measures: measures, queries: .allJudged)
            costs[candidate.name] = try await time(
                engine, queries: queries, k: k, concurrency: description.concurrency ?? 2, passes: description.passes ?? 3)
            if let collection = engine.collection { try collection.close() }
            let cost = costs[candidate.name]!
            print(String(format: "  %@: p99 %.2f ms, %.1f queries/s", candidate.name, cost.p99 * 1000, cost.queriesPerSecond))
        }

        let options = ComparisonOptions(seed: seed)
        let report = try ComparisonReport(
            baseline: (baselineName, reports[baselineName]!),
            candidates: description.candidates.map(\.name).filter { $0 != baselineName }.map { ($0, reports[$0]!) },
            measures: measures, options: options)
        print()
        print(report.table(costs: costs), terminator: "")
        var verdict: GateVerdict?
        if let gatePath = gate ?? description.gate.map(resolve) {
            verdict = try ComparisonGate(contentsOf: URL(fileURLWithPath: gatePath)).check(report, costs: costs)
            print("\n\(verdict!)")
        }
        let title = description.title ?? "Bake-off"
        if let html {
            try Data(report.html(title: title, costs: costs, verdict: verdict).utf8).write(to: URL(fileURLWithPath: html))
            print("wrote \(html)")
        }
        if let json {
            try writeJSON(json, report: report, costs: costs, verdict: verdict)
            print("wrote \(json)")
        }
        if let verdict, !verdict.passed { throw ExitCode(1) }
    }

    /// The candidate's collection, built (or reused when its stamp matches) and opened in an engine.
    func build(
        _ candidate: BakeoffDescription.Candidate, configuration: SearchEngine.Configuration, catalog: FolderCatalog,
        work: String, cache: EmbeddingCache, queries: BakeoffQueries, k: Int, seed: UInt64
    ) async throws -> SearchEngine {
        var index = HNSWIndex.Configuration()
        index.encoding = ["float16": .float16, "int8": .int8][candidate.encoding ?? "float32"] ?? .float32
        index.m = candidate.m ?? index.m
        index.efConstruction = candidate.efConstruction ?? index.efConstruction
        index.efSearch = candidate.ef ?? index.efSearch
        let collectionOptions = SearchCollection.Options(
            index: index, keywordIndex: candidate.keyword == true ? LexicalKeywordIndex.factory() : nil)
        var settings = configuration
        settings.queryCacheCapacity = 1  // every timed query pays for its encoding
        settings.candidatesPerRetriever = candidate.candidatesPerRetriever ?? settings.candidatesPerRetriever
        settings.engagementStrength = candidate.engagementStrength ?? settings.engagementStrength
        switch candidate.fusion ?? "rrf" {
        case "minmax": settings.fusion = .weighted(normalization: .minMax)
        case "zscore": settings.fusion = .weighted(normalization: .zScore)
        case "dbsf": settings.fusion = .distributionBased()
        default: settings.fusion = .reciprocalRank()
        }
        // The folder is named by the build settings, so candidates that differ only at query time
        // share one collection. Simulated engagement is recorded once, when the collection is built
        // (so reruns see the same events), into a collection of the candidate's own.
        let stamp = candidate.buildStamp + " pictures=\(catalog.root.path) encoder=\(configuration.textEncoderName)"
            + " textModel=\(candidate.textModel ?? models.textModelPath)"
            + " image=\(configuration.imageEncoder == nil ? "none" : configuration.imageEncoderName)"
            + (candidate.engagement.map {
                " engagement=\(candidate.name) sessions=\($0.sessions) seed=\($0.seed ?? seed) k=\(k) queries=\(queries.cases.count)"
            } ?? "")
        let folder = work + "/" + String(UInt64(truncatingIfNeeded: stableHash(stamp)), radix: 16)
        let stampFile = folder + "/bakeoff-stamp.txt"
        if (try? String(contentsOfFile: stampFile, encoding: .utf8)) != stamp {
            try? FileManager.default.removeItem(atPath: folder)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let collection = try SearchCollection(
                directory: folder + "/collection", schema: SearchEngine.schema(for: settings),
                options: collectionOptions)
            let engine = try SearchEngine(configuration: settings, collection: collection, cache: cache)
            let items = catalog.entries.enumerated().map { n, entry in
                CatalogItem(
                    id: VectorID(UInt64(n)), caption: entry.caption,
                    image: configuration.imageEncoder == nil ? nil : .file(entry.path), category: entry.category,
                    metadata: ["file": entry.relativePath])
            }
            let started = ContinuousClock.now
            for start in stride(from: 0, to: items.count, by: settings.batchSize) {
                _ = try await engine.ingest(Array(items[start..<min(start + settings.batchSize, items.count)]))
            }
            if let engagement = candidate.engagement {
                let recorded = try await simulateEngagement(engagement, engine: engine, queries: queries, k: k, seed: seed)
                print("  \(candidate.name): recorded \(recorded) simulated engagement events")
            }
            try collection.close()
            try stamp.write(toFile: stampFile, atomically: true, encoding: .utf8)
            let seconds = LatencySummary.seconds(ContinuousClock.now - started)
            print(String(format: "  %@: built %d items in %.1f s (%@)", candidate.name, items.count, seconds, candidate.buildStamp))
        }
        let collection = try SearchCollection(
            directory: folder + "/collection", schema: SearchEngine.schema(for: settings),
            options: collectionOptions)
        return try SearchEngine(configuration: settings, collection: collection, cache: cache)
    }

    /// The candidate's reranking stages, over the captions' embeddings.
    func rerankers(
        _ candidate: BakeoffDescription.Candidate, configuration: SearchEngine.Configuration, catalog: FolderCatalog
    ) throws -> [any Reranker] {
        guard let names = candidate.rerankers, !names.isEmpty else { return [] }
        let encoder = configuration.textEncoder
        var table = EmbeddingTable(dimension: encoder.dimension)
        let captions = catalog.entries.map(\.caption)
        for start in stride(from: 0, to: captions.count, by: 64) {
            let end = min(start + 64, captions.count)
            let values = try encoder.embed(texts: Array(captions[start..<end]))
            for row in 0..<(end - start) {
                let vector = Array(values[row * encoder.dimension..<(row + 1) * encoder.dimension])
                try table.set(VectorID(UInt64(start + row)), vector)
            }
        }
        return names.map { name -> any Reranker in
            name == "mmr"
                ? MaximalMarginalRelevance(lambda: candidate.mmrLambda ?? 0.7, items: table)
                : NearDuplicateCollapse(threshold: Float(candidate.collapseThreshold ?? 0.95), items: table)
        }
    }

    /// Simulated users: each session picks one of the bake-off's queries, looks at this engine's
    /// results, clicks relevant ones with probability 0.7 / rank^0.9 and hides an irrelevant one with
    /// probability 0.05.
    func simulateEngagement(
        _ settings: BakeoffDescription.Candidate.Engagement, engine: SearchEngine, queries: BakeoffQueries, k: Int,
        seed: UInt64
    ) async throws -> Int {
        var rng = SplitMix64(seed: settings.seed ?? seed)
        var events: [EngagementEvent] = []
        let start = Date(timeIntervalSince1970: 1_798_761_600)
        for session in 0..<settings.sessions {
            let query = queries.cases[Int.random(in: 0..<queries.cases.count, using: &rng)]
            let results = try await engine.search(SearchQuery(text: query.text, k: k))
            let time = start.addingTimeInterval(Double(session) * 60)
            for (rank, result) in results.enumerated() {
                let relevant = (query.judgements.grades[String(result.id.rawValue)] ?? 0) > 0
                let draw = Double.random(in: 0..<1, using: &rng)
                if relevant, draw < 0.7 / pow(Double(rank + 1), 0.9) {
                    events.append(EngagementEvent(item: result.id, kind: .click, time: time))
                } else if !relevant, draw < 0.05 {
                    events.append(EngagementEvent(item: result.id, kind: .hide, time: time))
                }
            }
        }
        try engine.record(events)
        return events.count
    }

    /// One untimed pass, then `passes` timed ones at `concurrency`.
    func time(_ engine: SearchEngine, queries: BakeoffQueries, k: Int, concurrency: Int, passes: Int) async throws -> RunCost {
        let texts = queries.cases.map(\.text)
        _ = try await timedPass(engine, texts: texts, k: k, concurrency: concurrency)
        var latencies: [Double] = []
        let cpuBefore = cpuSeconds()
        let started = ContinuousClock.now
        for _ in 0..<passes {
            latencies += try await timedPass(engine, texts: texts, k: k, concurrency: concurrency)
        }
        let wall = ContinuousClock.now - started
        return try RunCost(
            latencies: latencies, concurrency: concurrency, wallSeconds: LatencySummary.seconds(wall),
            cpuSeconds: cpuSeconds() - cpuBefore, peakMemoryBytes: peakMemoryBytes())
    }

    func timedPass(_ engine: SearchEngine, texts: [String], k: Int, concurrency: Int) async throws -> [Double] {
        try await withThrowingTaskGroup(of: [Double].self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var mine: [Double] = []
                    for index in stride(from: worker, to: texts.count, by: concurrency) {
                        let started = ContinuousClock.now
                        _ = try await engine.search(SearchQuery(text: texts[index], k: k))
                        mine.append(LatencySummary.seconds(ContinuousClock.now - started))
                    }
                    return mine
                }
            }
            var all: [Double] = []
            for try await part in group { all += part }
            return all
        }
    }

    func writeJSON(_ path: String, report: ComparisonReport, costs: [String: RunCost], verdict: GateVerdict?) throws {
        var rows: [[String: Any]] = []
        for row in report.rows {
            let c = row.comparison
            rows.append([
                "measure": "\(row.measure)", "candidate": row.candidate, "baseline_mean": c.baselineMean,
                "candidate_mean": c.candidateMean, "mean_difference": c.meanDifference,
                "ci_low": c.confidenceInterval.lowerBound, "ci_high": c.confidenceInterval.upperBound,
                "p_randomization_adjusted": row.adjustedRandomizationPValue, "p_t_adjusted": row.adjustedTTestPValue,
                "effect_size": c.effectSize.isFinite ? c.effectSize : 0, "wins": c.wins, "ties": c.ties, "losses": c.losses,
            ])
        }
        var costRows: [String: Any] = [:]
        for (name, cost) in costs {
            costRows[name] = [
                "p50_ms": cost.p50 * 1000, "p95_ms": cost.p95 * 1000, "p99_ms": cost.p99 * 1000, "qps": cost.queriesPerSecond,
                "cpu_s_per_1k": cost.cpuSecondsPerThousandQueries, "peak_mib": cost.peakMemoryBytes.map { Double($0) / 1_048_576 } ?? NSNull(),
                "concurrency": cost.concurrency, "queries": cost.queries,
            ]
        }
        var object: [String: Any] = [
            "machine": machineLine(), "baseline": report.baseline, "queries": report.queryIDs.count, "rows": rows, "costs": costRows,
        ]
        if let verdict { object["gate_passed"] = verdict.passed }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: path))
    }
}

/// The queries and judgements of a bake-off.
struct BakeoffQueries {
    struct Case {
        var id: String
        var text: String
        var judgements: Judgements<String>
    }
    var cases: [Case]
    var qrels: Qrels

    init(description: BakeoffDescription, catalog: FolderCatalog, resolve: (String) -> String) throws {
        var qrels = Qrels()
        var cases: [Case] = []
        if let path = description.queries?.qrels, let textsPath = description.queries?.texts {
            // Document ids in the qrels are picture paths relative to the folder; items are numbered in catalogue order.
            var ids: [String: String] = [:]
            for (n, entry) in catalog.entries.enumerated() { ids[entry.relativePath] = String(n) }
            let judged = try Qrels(contentsOf: URL(fileURLWithPath: resolve(path)))
            for query in try QuerySets.texts(resolve(textsPath)) {
                for (document, grade) in judged[query.id]?.grades ?? [:] {
                    guard let id = ids[document] else {
                        throw ValidationError("\(path): \(document) is not a picture under \(catalog.root.path)")
                    }
                    try qrels.setGrade(grade, document: id, query: query.id)
                }
                cases.append(Case(id: query.id, text: query.text, judgements: qrels[query.id] ?? Judgements()))
            }
        } else {
            let minItems = description.queries?.categories?.minItems ?? 3
            let members = catalog.entries.enumerated().map { ($1.category, $0) }
            for set in QuerySets.categories(members, minItems: minItems) {
                let id = set.category.replacingOccurrences(of: " ", with: "_")
                for n in set.ids { try qrels.setGrade(1, document: String(n), query: id) }
                cases.append(Case(id: id, text: set.text, judgements: qrels[id] ?? Judgements()))
            }
        }
        guard !cases.isEmpty else { throw ValidationError("the bake-off has no queries (no category with enough pictures, or an empty texts file)") }
        self.cases = cases
        self.qrels = qrels
    }
}

/// CPU time of this process so far (user + system, every thread), in seconds.
func cpuSeconds() -> Double {
    var usage = rusage()
    #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
        + Double(usage.ru_stime.tv_usec) / 1e6
}

/// Resets the kernel's record of this process's peak resident memory (Linux; elsewhere nothing).
func resetPeakMemory() {
    #if os(Linux)
    try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    #endif
}

/// This process's peak resident memory since the last reset (Linux's VmHWM), or `nil` elsewhere.
func peakMemoryBytes() -> Int? {
    #if os(Linux)
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first
        return kilobytes.map { $0 * 1024 }
    }
    return nil
    #else
    return nil
    #endif
}

/// The CPU model, core count, kernel variant and OpenBLAS core, for every report.
func machineLine() -> String {
    var model = "unknown CPU"
    #if os(Linux)
    if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
        let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
        let colon = line.firstIndex(of: ":")
    {
        model = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    #endif
    return "\(model), \(ProcessInfo.processInfo.activeProcessorCount) cores, kernels \(Kernels.active.level), OpenBLAS core \(BLAS.coreName)"
}

/// FNV-1a of a string: a stable name for a build-settings folder.
func stableHash(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01b3
    }
    return hash
}
