import ArgumentParser
import Encoders
import Foundation
import ImageDecoding
import SearchCore
import Tensor

/// `mms-bench preprocess`: what the DCT-scaled fast path of CLIP
/// preprocessing (``ImagePreprocessor/dctHeadroom``) costs in agreement and
/// gains in speed, against the default, Pillow-exact path, in one run.
struct PreprocessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preprocess",
        abstract: "CLIP preprocessing: the exact default against the DCT-scaled fast path (deviation, embedding cosine, speed).",
        discussion: """
            Reads the JPEG fixtures of Tests/ImageDecodingTests/Fixtures (manifest.json, "clip_jpeg": 64 to 1411 pixels
            a side, baseline, progressive, 4:2:0, 4:2:2, 4:4:4; written by scripts/fixtures/make_image_fixtures.py) and
            preprocesses each for ViT-B/32 twice: with the default (full-size decode, equal to Pillow) and with
            dctHeadroom = --headroom. For each it prints the largest and mean absolute difference of the model inputs
            (CLIP's normalised units; one grey level is about 0.015), the cosine of the two ViT-B/32 embeddings (seeded
            random weights, full-size geometry, shared with `mms-bench encoders`), and decode + preprocess images/s of
            each path on one thread; the exact path is the anchor, so the ratio is fast ÷ exact. Then the same for
            the picture set `mms-bench image-ingest` uses (seeded scenes of 300–800 pixels a side, JPEG and PNG), the
            two paths taking turns within each sample, beside one ViT-B/32 forward pass per picture: what the default's
            full-size decode costs an ingest.
            """)

    @Option(help: "Write the report as JSON to this file.") var json: String?
    @Option(help: "Timed samples per figure; the median is reported.") var samples = 9
    @Option(help: "The fast path's dctHeadroom.") var headroom = 2.0
    @Option(help: "The image fixtures folder.") var fixtures = "Tests/ImageDecodingTests/Fixtures"
    @Option(help: "Where the ViT-B/32 weights go (gitignored).") var data = "bench-data/encoders"
    @Option(help: "Pictures in the ingest set.") var ingestPictures = 64

    struct Manifest: Decodable {
        struct Entry: Decodable {
            var file: String
            var width: Int
            var height: Int
            var note: String
        }
        var clip_jpeg: [Entry]
    }

    func run() throws {
        let manifestURL = URL(fileURLWithPath: fixtures).appendingPathComponent("manifest.json")
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: manifestURL))
        guard !manifest.clip_jpeg.isEmpty else { throw ValidationError("\(manifestURL.path) lists no clip_jpeg cases") }
        BLAS.threadCount = 1
        let exact = try ImageIngestCommand.seededViTB32(data: data)
        precondition(exact.preprocessor.dctHeadroom == nil, "the default preprocessing must be the exact one")
        var fast = exact
        fast.preprocessor.dctHeadroom = headroom
        let size = exact.inputShape.floatCount, d = exact.dimension
        var results: [BenchResult] = []
        var worstCosine = 1.0, worstPixel: Float = 0
        print("JPEG                            max |Δ|   mean |Δ|  cosine       exact img/s  fast img/s")
        for entry in manifest.clip_jpeg {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixtures).appendingPathComponent(entry.file)))
            let input = ImageInput.encoded(bytes)
            var a = [Float](repeating: 0, count: size), b = a
            try a.withUnsafeMutableBufferPointer { try exact.preprocess(input, into: $0) }
            try b.withUnsafeMutableBufferPointer { try fast.preprocess(input, into: $0) }
            let differences = zip(a, b).map { abs($0 - $1) }
            let maxDifference = differences.max() ?? 0
            let meanDifference = differences.reduce(0, +) / Float(differences.count)
            var ea = [Float](repeating: 0, count: d), eb = ea
            try a.withUnsafeBufferPointer { px in try ea.withUnsafeMutableBufferPointer { try exact.embed(preprocessed: px, count: 1, into: $0) } }
            try b.withUnsafeBufferPointer { px in try eb.withUnsafeMutableBufferPointer { try exact.embed(preprocessed: px, count: 1, into: $0) } }
            var dot = 0.0, na = 0.0, nb = 0.0
            for (x, y) in zip(ea, eb) {
                dot += Double(x) * Double(y)
                na += Double(x) * Double(x)
                nb += Double(y) * Double(y)
            }
            let cosine = dot / (na.squareRoot() * nb.squareRoot())
            var out = a
            let exactNs = try Clock.medianNanoseconds(samples: samples, operations: 1) {
                try out.withUnsafeMutableBufferPointer { try exact.preprocess(input, into: $0) }
            }
            let fastNs = try Clock.medianNanoseconds(samples: samples, operations: 1) {
                try out.withUnsafeMutableBufferPointer { try fast.preprocess(input, into: $0) }
            }
            print(
                entry.file.padding(toLength: 30, withPad: " ", startingAt: 0)
                    + String(format: "  %.4f    %.5f   %.8f   %9.1f  %9.1f", maxDifference, meanDifference, cosine, 1e9 / exactNs, 1e9 / fastNs))
            worstCosine = min(worstCosine, cosine)
            worstPixel = max(worstPixel, maxDifference)
            let stem = entry.file.replacingOccurrences(of: ".jpg", with: "")
            results.append(BenchResult(
                "preprocess_\(stem)_dct\(headroom)", 1e9 / fastNs, "images/s", anchor: "exact (default)", anchorValue: 1e9 / exactNs,
                note: String(format: "%@; inputs max |Δ| %.4f, mean |Δ| %.5f; ViT-B/32 cosine %.8f", entry.note, maxDifference, meanDifference, cosine)))
        }
        // The ingest benchmark's pictures: both paths alternate within each sample.
        let pictures = try ImageIngestCommand.syntheticPictures(count: ingestPictures, seed: 2026)
        var slots = [Float](repeating: 0, count: size)
        var times: [[Double]] = [[], []]
        for sample in 0...samples {
            for (k, encoder) in [exact, fast].enumerated() {
                let start = Clock.now()
                try slots.withUnsafeMutableBufferPointer { slot in
                    for picture in pictures { try encoder.preprocess(picture, into: slot) }
                }
                if sample > 0 { times[k].append(Double(Clock.now() - start) / Double(pictures.count)) }  // sample 0 warms up
            }
        }
        let (exactSet, fastSet) = (Clock.median(times[0]), Clock.median(times[1]))
        var embedding = [Float](repeating: 0, count: d)
        let forward = try Clock.medianNanoseconds(samples: max(3, samples / 3), operations: 1) {
            try slots.withUnsafeBufferPointer { px in try embedding.withUnsafeMutableBufferPointer { try exact.embed(preprocessed: px, count: 1, into: $0) } }
        }
        let share = (exactSet - fastSet) / (exactSet + forward)
        print(String(
            format: "ingest set (%d pictures, 300–800 px): exact %.1f, fast %.1f images/s on one thread; one ViT-B/32 forward %.1f ms; the exact path adds %.1f%% to decode + preprocess + forward",
            pictures.count, 1e9 / exactSet, 1e9 / fastSet, forward / 1e6, 100 * share))
        results.append(BenchResult(
            "preprocess_ingest_set_dct\(headroom)", 1e9 / fastSet, "images/s", anchor: "exact (default)", anchorValue: 1e9 / exactSet,
            note: "image-ingest's \(pictures.count) seeded JPEG/PNG pictures of 300–800 px, one thread, the two paths alternating"))
        let report = BenchReport(
            suite: "preprocess", machine: .current(kernels: Kernels.active.level.description), results: results,
            summary: [
                "dct_fast_path_worst_cosine": worstCosine, "dct_fast_path_worst_input_difference": Double(worstPixel),
                "ingest_set_exact_over_fast_preprocess_time": exactSet / fastSet,
                "ingest_exact_path_added_share_with_forward": share,
            ])
        report.printTable()
        if let json { try report.write(json: json) }
    }
}
