import ArgumentParser
import Encoders
import Foundation
import MultimodalSearch
import SearchCore
import Tensor

/// `mms-bench collection`: what a user of `mms` or `SearchEngine` waits for
/// when a process starts — opening a durable collection and answering the
/// first query — against the format-1 `SearchStore`, whose restore rebuilds
/// the graph vector by vector, on the same items and vectors, each in a
/// fresh process.
struct CollectionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collection",
        abstract: "Open + first query of a SearchCollection against today's SearchStore restore, in fresh processes.",
        discussion: """
            Writes --items items (a caption and a --dimension caption vector each, from the seeded clustered set) \
            into a new collection and into a format-1 store, closes both, then starts this executable again \
            --repeats times for each (alternating) to time opening, building the engine and the first text \
            query; each collection measurement follows an unmeasured open of the same files, so both paths \
            are timed with their files in the page cache (the old path's restore reads all of its own). Query text is mapped to one of the set's query vectors by a lookup encoder, so the first \
            query measures the index, not a model. It also runs the single-add suite on --items vectors \
            (single_add_ratio) and the batched picture-ingest suite (batched_ingest_ratio).
            """)

    @Option(help: "Write the report as JSON to this file.") var json: String?
    @Option(help: "Items in the collection.") var items = 100_000
    @Option(help: "Components per caption vector.") var dimension = 384
    @Option(help: "Where the data set, the collection and the store are written.") var workDir = "bench-data/collection"
    @Option(help: "Fresh-process measurements of each path; medians are reported.") var repeats = 5
    @Option(help: "Data set seed.") var seed: UInt64 = 42
    @Flag(help: "Skip the format-1 store (its restore takes minutes at 100,000 items).") var skipOld = false
    @Flag(help: "Skip the single-add suite (--items vectors one call each against one call; minutes at 100,000).")
    var skipSingleAdd = false
    @Flag(help: "Skip the picture-ingest suite (ViT-B/32, seeded weights, 64 pictures through SearchEngine.ingest).")
    var skipImageIngest = false

    func run() throws {
        let (data, _) = try ANNDataSet.load(
            directory: workDir, count: items, queries: 100, dimension: dimension, clusters: 100, seed: seed, truthK: 10)
        let collectionDirectory = workDir + "/collection-\(items)x\(dimension)"
        let storeDirectory = workDir + "/store-\(items)x\(dimension)"
        for directory in [collectionDirectory, storeDirectory] { try? FileManager.default.removeItem(atPath: directory) }

        // Write both from the same items and vectors.
        let schema = LookupTextEncoder.schema(dimension: dimension)
        var started = Clock.now()
        let collection = try SearchCollection(directory: collectionDirectory, schema: schema)
        let batch = 1_000
        for start in stride(from: 0, to: items, by: batch) {
            let ids = (start..<min(start + batch, items)).map { VectorID(UInt64($0)) }
            let rows = Array(data.base[(start * dimension)..<((start + ids.count) * dimension)])
            try collection.add(ids.map(Self.item), vectors: [VectorField.caption: FieldRows(ids: ids, rows: rows)])
        }
        try collection.close()
        let writeSeconds = Double(Clock.now() - started) / 1e9
        print(String(format: "wrote the collection in %.1f s", writeSeconds))
        if !skipOld {
            started = Clock.now()
            let store = try SearchStore(
                directory: URL(fileURLWithPath: storeDirectory), textEncoder: LookupTextEncoder.name(dimension), textDimension: dimension)
            for start in stride(from: 0, to: items, by: batch) {
                let end = min(start + batch, items)
                try store.append((start..<end).map { i in
                    let item = Self.item(VectorID(UInt64(i)))
                    let record = SearchStore.Record(
                        id: UInt64(i), caption: item.caption, path: nil, metadata: item.metadata, has_caption: true, has_image: false)
                    return (record, Array(data.base[(i * dimension)..<((i + 1) * dimension)]), nil)
                })
            }
            print(String(format: "wrote the format-1 store in %.1f s", Double(Clock.now() - started) / 1e9))
        }

        // Fresh processes, alternating. Each is measured right after an unmeasured fresh process
        // opened the same files, so both paths find them in the page cache (this machine's kernel
        // reclaims idle file pages within seconds, and the format-1 restore takes many).
        var fresh: [String: [OpenTiming]] = [:]
        for r in 0..<repeats {
            for kind in skipOld ? ["new"] : ["new", "old"] {
                let directory = kind == "new" ? collectionDirectory : storeDirectory
                if kind == "new" {
                    _ = try Self.spawnOpen(kind: kind, directory: directory, dimension: dimension, dataDirectory: workDir, items: items, seed: seed, query: r)
                }
                let timing = try Self.spawnOpen(kind: kind, directory: directory, dimension: dimension, dataDirectory: workDir, items: items, seed: seed, query: r)
                print("\(kind) path, run \(r + 1): open \(String(format: "%.2f", timing.openMilliseconds)) ms, first query \(String(format: "%.2f", timing.firstQueryMilliseconds)) ms, top hit \(timing.topHit)")
                fresh[kind, default: []].append(timing)
            }
        }
        let new = fresh["new"]!
        let newOpen = Clock.median(new.map(\.openMilliseconds))
        let newFirst = Clock.median(new.map(\.firstQueryMilliseconds))
        let newTotal = Clock.median(new.map { $0.openMilliseconds + $0.firstQueryMilliseconds })
        var results = [
            BenchResult("collection open", newOpen, "ms", note: "SearchCollection + SearchEngine, fresh process, files in the page cache"),
            BenchResult("collection first query", newFirst, "ms"),
        ]
        var summary: [String: Double] = ["open_first_query_ms": newTotal, "collection_write_s": writeSeconds]
        if let old = fresh["old"] {
            let oldTotal = Clock.median(old.map { $0.openMilliseconds + $0.firstQueryMilliseconds })
            results.append(
                BenchResult(
                    "open + first query", newTotal, "ms", anchor: "format-1 SearchStore restore + first query",
                    anchorValue: oldTotal))
            results.append(BenchResult("format-1 restore", Clock.median(old.map(\.openMilliseconds)), "ms"))
            summary["old_restore_first_query_ms"] = oldTotal
            summary["open_first_query_ratio_vs_old"] = newTotal / oldTotal
        }
        if !skipSingleAdd {
            print("single-add: \(items) × \(dimension), one call each against one call …")
            let single = try measureSingleAdd(count: items, dimension: dimension, seed: seed)
            results += single.results
            summary["single_add_ratio"] = single.ratio
            summary["single_add_cpu_ratio"] = single.summary["single_add_cpu_ratio"]
            summary["recall_at_10_single_add"] = single.singleRecall
            summary["recall_at_10_one_call"] = single.oneCallRecall
        }
        if !skipImageIngest {
            let ingest = try Self.measureEngineImageIngest(pictures: 64, samples: 5)
            results += ingest.results
            summary["batched_ingest_ratio"] = ingest.batched / ingest.oneAtATime
            summary["batched_twopasses_ingest_ratio"] = ingest.twoPasses / ingest.oneAtATime
            summary["batched_ingest_images_per_s"] = ingest.batched
            summary["one_at_a_time_ingest_images_per_s"] = ingest.oneAtATime
        }
        let report = BenchReport(
            suite: "collection", machine: .current(kernels: Kernels.active.level.description), results: results, summary: summary)
        report.printTable()
        if let json { try report.write(json: json) }
    }

    /// Images/s of `SearchEngine.ingest` with ViT-B/32 (seeded weights) on 2 cores: one call per picture
    /// (a forward pass each, as the engine before v2 ingested pictures) with the encoder's GEMMs split
    /// over both cores, against the pictures in one call in two configurations: the encoder's defaults
    /// on two threads (one pass of 64, which the encoder splits by pictures, one core each) and two
    /// passes of 16 side by side on one OpenBLAS thread each (`BatchPolicy(maximumBatchSize: 16,
    /// concurrency: 2)`, `threadCount = 1`). The three take turns within each sample; medians of `samples`.
    static func measureEngineImageIngest(pictures count: Int, samples: Int) throws
        -> (batched: Double, oneAtATime: Double, twoPasses: Double, results: [BenchResult])
    {
        var single = try ImageIngestCommand.seededViTB32(data: "bench-data/encoders")
        single.threadCount = 2
        let batched = single
        var twoPasses = single
        twoPasses.threadCount = 1
        twoPasses.batching = BatchPolicy(maximumBatchSize: 16, concurrency: 2)
        let pictures = try ImageIngestCommand.syntheticPictures(count: count, seed: 2026)
        let items = pictures.enumerated().map { i, picture -> CatalogItem in
            guard case .encoded(let bytes) = picture else { preconditionFailure("synthetic pictures are encoded bytes") }
            return CatalogItem(id: VectorID(UInt64(i)), image: .encoded(bytes))
        }
        func engine(_ encoder: CLIPImageEncoder) throws -> SearchEngine {
            // A fresh engine (and cache) each time, so nothing comes from the embedding cache.
            var configuration = SearchEngine.Configuration(
                textEncoder: LookupTextEncoder(queries: [], dimension: 8), textEncoderName: "none", imageEncoder: encoder,
                imageEncoderName: "vit-b32-seeded")
            configuration.batchSize = count
            return try SearchEngine(configuration: configuration)
        }
        func rate(_ body: () throws -> Int) rethrows -> Double {
            let started = Clock.now()
            let indexed = try body()
            return Double(indexed) / (Double(Clock.now() - started) / 1e9)
        }
        // Warm up every way on the whole set (first-touch of the activation buffers, page faults).
        _ = try engine(batched).ingest(items)
        _ = try engine(twoPasses).ingest(items)
        let warm = try engine(single)
        for item in items.prefix(8) { _ = try warm.ingest([item]) }
        var batchedRates: [Double] = [], twoPassRates: [Double] = [], singleRates: [Double] = [], ratios: [Double] = []
        for _ in 0..<samples {
            let b = try engine(batched), t = try engine(twoPasses), e = try engine(single)
            batchedRates.append(try rate { try b.ingest(items).indexed.count })
            twoPassRates.append(try rate { try t.ingest(items).indexed.count })
            singleRates.append(try rate {
                for item in items { _ = try e.ingest([item]) }
                return items.count
            })
            ratios.append(batchedRates.last! / singleRates.last!)
            print(String(
                format: "picture ingest sample: batched %.2f images/s (two passes %.2f), one at a time %.2f images/s",
                batchedRates.last!, twoPassRates.last!, singleRates.last!))
        }
        BLAS.threadCount = 2
        let b = Clock.median(batchedRates), t = Clock.median(twoPassRates), o = Clock.median(singleRates)
        print(String(format: "picture ingest: median of the samples' ratios %.3f", Clock.median(ratios)))
        let note = "ViT-B/32 seeded weights, \(count) JPEG/PNG pictures of 300–800 px, 2 cores, SearchEngine.ingest"
        return (b, o, t, [
            BenchResult(
                "picture ingest, one call", b, "images/s", anchor: "one call per picture", anchorValue: o,
                note: note + "; encoder defaults, 2 threads (split by pictures)"),
            BenchResult(
                "picture ingest, one call, two passes", t, "images/s", anchor: "one call per picture", anchorValue: o,
                note: note + "; passes of 16, two at a time, one OpenBLAS thread each"),
        ])
    }

    static func item(_ id: VectorID) -> CatalogItem {
        CatalogItem(id: id, caption: "item \(id.rawValue)", category: "cluster \(id.rawValue % 100)", metadata: ["n": String(id.rawValue)])
    }

    struct OpenTiming: Codable {
        var openMilliseconds: Double
        var firstQueryMilliseconds: Double
        var topHit: UInt64
    }

    static func spawnOpen(
        kind: String, directory: String, dimension: Int, dataDirectory: String, items: Int, seed: UInt64, query: Int
    ) throws -> OpenTiming {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        process.arguments = [
            "collection-open", "--kind", kind, "--directory", directory, "--dimension", String(dimension),
            "--data-dir", dataDirectory, "--items", String(items), "--seed", String(seed), "--query", String(query),
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let line = String(decoding: output, as: UTF8.self).split(separator: "\n").last else {
            throw ANNBenchError("collection-open \(kind) failed with status \(process.terminationStatus)")
        }
        return try JSONDecoder().decode(OpenTiming.self, from: Data(line.utf8))
    }
}

/// `mms-bench collection-open`: one fresh-process measurement for `collection` (internal).
struct CollectionOpenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collection-open", abstract: "One fresh-process open + first query (used by `collection`).",
        shouldDisplay: false)

    @Option var kind: String
    @Option var directory: String
    @Option var dimension: Int
    @Option var dataDir: String
    @Option var items: Int
    @Option var seed: UInt64
    @Option var query: Int

    func run() throws {
        // The query vectors, read before the clock starts (a model would be loaded before, too).
        let files = ANNDataSet.files(directory: dataDir, count: items, queries: 100, dimension: dimension, clusters: 100, seed: seed)
        let encoder = LookupTextEncoder(queries: try ANNDataSet.readFvecs(files.queries, dimension: dimension), dimension: dimension)
        let configuration = SearchEngine.Configuration(textEncoder: encoder, textEncoderName: LookupTextEncoder.name(dimension))
        let started = Clock.now()
        let engine: SearchEngine
        if kind == "new" {
            let collection = try SearchCollection(directory: directory, schema: LookupTextEncoder.schema(dimension: dimension))
            engine = try SearchEngine(configuration: configuration, collection: collection)
        } else {
            let store = try SearchStore(
                directory: URL(fileURLWithPath: directory), textEncoder: LookupTextEncoder.name(dimension), textDimension: dimension)
            engine = try SearchEngine(configuration: configuration, engagement: try store.loadEngagement())
            try store.restore(into: engine)
        }
        let opened = Clock.now()
        let results = try engine.search(SearchQuery(text: "q\(query)", k: 10))
        let answered = Clock.now()
        let timing = CollectionCommand.OpenTiming(
            openMilliseconds: Double(opened - started) / 1e6, firstQueryMilliseconds: Double(answered - opened) / 1e6,
            topHit: results.first?.id.rawValue ?? .max)
        print(String(decoding: try JSONEncoder().encode(timing), as: UTF8.self))
    }
}

/// A text encoder that maps `"q<N>"` to the data set's query vector N: the
/// first query then measures the collection, not a model.
struct LookupTextEncoder: TextEncoder {
    let queries: [Float]
    let dimension: Int

    static func name(_ dimension: Int) -> String { "lookup:\(dimension)" }

    static func schema(dimension: Int) -> CollectionSchema {
        CollectionSchema(fields: [VectorField(name: VectorField.caption, encoder: name(dimension), dimension: dimension)])
    }

    func embed(texts: [String], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        for (t, text) in texts.enumerated() {
            guard text.hasPrefix("q"), let n = Int(text.dropFirst()), n >= 0, (n + 1) * dimension <= queries.count else {
                throw SearchError(.invalidArgument, "the lookup encoder knows \"q0\" … \"q\(queries.count / dimension - 1)\", not \"\(text)\"")
            }
            for j in 0..<dimension { output[t * dimension + j] = queries[n * dimension + j] }
        }
    }
}
