import ArgumentParser
import CBenchPNG
import CBenchTurboJPEG
import Encoders
import Foundation
import SearchCore
import Tensor

/// `mms-bench image-ingest`: pictures from file bytes to embeddings, one per
/// call (as the engine ingested them before v2) against the whole batch in
/// one ``CLIPImageEncoder/embed(images:into:)`` call, in one run.
struct ImageIngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image-ingest",
        abstract: "Images/s from JPEG/PNG bytes to ViT-B/32 embeddings: one picture per call against one batched call.",
        discussion: """
            ViT-B/32 gets seeded random weights (the same arithmetic as trained ones), written to --data as
            safetensors (shared with `mms-bench encoders`). The pictures are seeded synthetic scenes of 300–800
            pixels a side (gradients, shapes, noise), three in four written as JPEG (quality 90, 4:2:0, by
            libjpeg-turbo) and one in four as PNG (libpng), held in memory; the decoder reads them as files' bytes.
            The anchor is one picture per call — decode, preprocess and a forward pass of one, the way the engine
            ingested before v2 — on the same threads; ours is embed(images:) over the whole set in passes of up to
            --pass-size (64): a pass of 8 or more pictures a thread splits by pictures (each thread decodes and
            preprocesses its share into the pass's buffer, then runs the forward pass over it with one-thread GEMMs);
            a smaller pass is preprocessed on --threads threads, then embedded with its GEMMs split over them.
            The ratio batched_ingest_ratio is batched ÷ one-at-a-time images/s (above 1: batching is faster).
            """)

    @Option(help: "Write the report as JSON to this file.") var json: String?
    @Option(help: "Timed samples per figure; the median is reported.") var samples = 3
    @Option(help: "Pictures per run.") var pictures = 64
    @Option(help: "Threads (OpenBLAS, the packed GEMM's split and preprocessing).") var threads = 2
    @Option(help: "Where the ViT-B/32 weights go (gitignored).") var data = "bench-data/encoders"
    @Option(help: "Pictures per forward pass when batched (BatchPolicy.maximumBatchSize).") var passSize = 64
    @Option(help: "Decode JPEGs at a reduced DCT scale with this headroom (the inexact fast path; default: exact).")
    var dctHeadroom: Double?

    /// ViT-B/32 with seeded random weights, written once under `data`.
    static func seededViTB32(data: String) throws -> CLIPImageEncoder {
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let vitPath = data + "/vit-b32.safetensors"
        if !FileManager.default.fileExists(atPath: vitPath) {
            try SafetensorsFile.write(EncodersCommand.randomViT(.vitB32), to: vitPath)
        }
        return try CLIPImageEncoder(weights: SafetensorsFile(path: vitPath), configuration: .vitB32)
    }

    func run() throws {
        var encoder = try Self.seededViTB32(data: data)
        encoder.preprocessor.dctHeadroom = dctHeadroom
        let inputs = try Self.syntheticPictures(count: pictures, seed: 2026)
        let bytes = inputs.reduce(0) { total, input in
            if case .encoded(let b) = input { return total + b.count }
            return total
        }
        print(String(format: "%d pictures, %.1f MB of JPEG/PNG; %d threads", inputs.count, Double(bytes) / 1e6, threads))
        let result = try measureImageIngest(
            encoder: encoder, pictures: inputs, threads: threads, samples: samples, maximumBatchSize: passSize)

        let note = "ViT-B/32 random weights, \(inputs.count) JPEG/PNG pictures of 300–800 px, \(threads) threads, "
            + (dctHeadroom.map { "DCT-scaled decode (headroom \($0))" } ?? "exact (full-size) decode")
        var results = [
            BenchResult(
                "image_ingest_batched", result.batchedImagesPerSecond, "images/s",
                anchor: "one picture per call", anchorValue: result.oneAtATimeImagesPerSecond,
                note: note + "; embed(images:) over all, passes of ≤ \(passSize), split by pictures over \(threads) threads from 8 a thread"),
            BenchResult(
                "image_ingest_batched_twopasses", result.twoPassImagesPerSecond, "images/s",
                anchor: "one picture per call", anchorValue: result.oneAtATimeImagesPerSecond,
                note: note + "; BatchPolicy concurrency \(threads): \(threads) passes at once, 1 OpenBLAS thread each"),
            BenchResult(
                "image_preprocess_one_thread", result.preprocessImagesPerSecond, "images/s",
                note: "decode + CLIP preprocess to 3×224×224, one thread (part of both figures above)"),
            BenchResult(
                "vit_b32_forward_batch1", result.forwardBatch1ImagesPerSecond, "images/s",
                note: "preprocessed input, one image per forward pass, \(threads) threads"),
            BenchResult(
                "vit_b32_forward_batch\(min(passSize, inputs.count))", result.forwardBatchedImagesPerSecond, "images/s",
                note: "preprocessed input, forward passes of ≤ \(passSize) over the set, \(threads) threads"),
        ]
        results[0].note! += String(format: "; one-at-a-time %.2f images/s", result.oneAtATimeImagesPerSecond)
        BLAS.threadCount = threads
        let report = BenchReport(
            suite: "image-ingest", machine: .current(kernels: Kernels.active.level.description), results: results,
            summary: [
                "batched_ingest_ratio": result.ratio,
                "batched_twopasses_ingest_ratio": result.twoPassImagesPerSecond / result.oneAtATimeImagesPerSecond,
            ])
        report.printTable()
        if let json { try report.write(json: json) }
    }
}

/// Images/s of one ingest measurement (see ``measureImageIngest(encoder:pictures:threads:samples:)``).
struct ImageIngestResult: Sendable {
    /// Pictures in the measured set.
    var pictures: Int
    /// Threads given to OpenBLAS, the packed GEMM and preprocessing.
    var threads: Int
    /// One `embed(images: [picture])` per picture: decode, preprocess, a forward pass of one.
    var oneAtATimeImagesPerSecond: Double
    /// One `embed(images:)` over the whole set, preprocessing on `threads` threads, passes of ≤ `maximumBatchSize`.
    var batchedImagesPerSecond: Double
    /// One `embed(images:)` over the whole set as `threads` concurrent passes of one OpenBLAS thread each.
    var twoPassImagesPerSecond: Double
    /// Decode + preprocess alone, one thread.
    var preprocessImagesPerSecond: Double
    /// Forward passes of one preprocessed image.
    var forwardBatch1ImagesPerSecond: Double
    /// One forward pass over the whole set, preprocessed.
    var forwardBatchedImagesPerSecond: Double

    /// Batched ÷ one-at-a-time images/s (the target: ≥ 1.5 on two cores).
    var ratio: Double { batchedImagesPerSecond / oneAtATimeImagesPerSecond }
}

/// Measures picture ingestion from encoded bytes to embeddings, one picture
/// per call against the whole set in one ``CLIPImageEncoder/embed(images:into:)``
/// call, with `threads` threads for both; medians of `samples` runs after a
/// warm-up, the ways taking turns within each sample (so load from other
/// processes falls on each alike). Sets OpenBLAS's process-wide thread count as it goes (to `threads` at the end).
func measureImageIngest(
    encoder: CLIPImageEncoder, pictures: [ImageInput], threads: Int, samples: Int = 3, maximumBatchSize: Int = 64
) throws -> ImageIngestResult {
    let n = pictures.count, d = encoder.dimension
    var out = [Float](repeating: 0, count: n * d)
    var batched = encoder
    batched.batching = BatchPolicy(maximumBatchSize: maximumBatchSize, concurrency: 1, preprocessingConcurrency: threads)
    var twoPass = encoder
    twoPass.batching = BatchPolicy(maximumBatchSize: maximumBatchSize, concurrency: threads, preprocessingConcurrency: threads)

    func oneByOne() throws {
        BLAS.threadCount = threads
        try out.withUnsafeMutableBufferPointer { buffer in
            for (i, picture) in pictures.enumerated() {
                try batched.embed(images: [picture], into: UnsafeMutableBufferPointer(rebasing: buffer[(i * d)..<((i + 1) * d)]))
            }
        }
    }
    func whole() throws {
        BLAS.threadCount = threads
        try out.withUnsafeMutableBufferPointer { try batched.embed(images: pictures, into: $0) }
    }
    func passes() throws {
        BLAS.threadCount = 1
        try out.withUnsafeMutableBufferPointer { try twoPass.embed(images: pictures, into: $0) }
    }
    // The batched figure is only worth having if it computes the same embeddings.
    try oneByOne()
    let reference = out
    try whole()
    let difference = zip(reference, out).map { abs($0 - $1) }.max() ?? 0
    guard difference <= 1e-4 else {
        throw ValidationError("batched embeddings differ from one-at-a-time ones by \(difference)")
    }
    try passes()
    // The three ways alternate within each sample, so load from other processes falls on all of them.
    var times: [[Double]] = [[], [], []]
    for _ in 0..<samples {
        for (k, body) in [oneByOne, whole, passes].enumerated() {
            let start = Clock.now()
            try body()
            times[k].append(Double(Clock.now() - start) / Double(n))
        }
    }
    let (oneAtATime, wholeBatch, twoPasses) = (Clock.median(times[0]), Clock.median(times[1]), Clock.median(times[2]))

    // The parts: decode + preprocess on one thread, and forward passes of preprocessed input.
    let shape = encoder.inputShape
    var slots = [Float](repeating: 0, count: n * shape.floatCount)
    let preprocess = try Clock.medianNanoseconds(samples: samples, operations: n) {
        try slots.withUnsafeMutableBufferPointer { slots in
            for (i, picture) in pictures.enumerated() {
                try encoder.preprocess(
                    picture, into: UnsafeMutableBufferPointer(rebasing: slots[(i * shape.floatCount)..<((i + 1) * shape.floatCount)]))
            }
        }
    }
    BLAS.threadCount = threads
    let forward1 = try Clock.medianNanoseconds(samples: samples, operations: n) {
        try slots.withUnsafeBufferPointer { slots in
            try out.withUnsafeMutableBufferPointer { buffer in
                for i in 0..<n {
                    try encoder.embed(
                        preprocessed: UnsafeBufferPointer(rebasing: slots[(i * shape.floatCount)..<((i + 1) * shape.floatCount)]),
                        count: 1, into: UnsafeMutableBufferPointer(rebasing: buffer[(i * d)..<((i + 1) * d)]))
                }
            }
        }
    }
    let forwardAll = try Clock.medianNanoseconds(samples: samples, operations: n) {
        try slots.withUnsafeBufferPointer { slots in
            try out.withUnsafeMutableBufferPointer { buffer in
                var start = 0
                while start < n {
                    let count = min(maximumBatchSize, n - start)
                    try encoder.embed(
                        preprocessed: UnsafeBufferPointer(rebasing: slots[(start * shape.floatCount)..<((start + count) * shape.floatCount)]),
                        count: count, into: UnsafeMutableBufferPointer(rebasing: buffer[(start * d)..<((start + count) * d)]))
                    start += count
                }
            }
        }
    }
    return ImageIngestResult(
        pictures: n, threads: threads, oneAtATimeImagesPerSecond: 1e9 / oneAtATime, batchedImagesPerSecond: 1e9 / wholeBatch,
        twoPassImagesPerSecond: 1e9 / twoPasses, preprocessImagesPerSecond: 1e9 / preprocess,
        forwardBatch1ImagesPerSecond: 1e9 / forward1, forwardBatchedImagesPerSecond: 1e9 / forwardAll)
}

extension ImageIngestCommand {
    /// `count` seeded synthetic pictures of 300–800 pixels a side as file bytes: three in four JPEG
    /// (quality 90, 4:2:0), one in four PNG.
    static func syntheticPictures(count: Int, seed: UInt64) throws -> [ImageInput] {
        var random = BenchRandom(seed: seed)
        return try (0..<count).map { i in
            let width = Int.random(in: 300...800, using: &random), height = Int.random(in: 300...800, using: &random)
            let pixels = scene(width: width, height: height, using: &random)
            return .encoded(i % 4 == 3 ? try png(pixels, width: width, height: height) : try jpeg(pixels, width: width, height: height))
        }
    }

    /// A smooth two-colour gradient with a few flat rectangles and discs and ±8 of noise, RGB interleaved.
    static func scene(width: Int, height: Int, using random: inout BenchRandom) -> [UInt8] {
        func colour() -> SIMD3<Float> {
            SIMD3(Float.random(in: 0...255, using: &random), Float.random(in: 0...255, using: &random), Float.random(in: 0...255, using: &random))
        }
        let from = colour(), to = colour()
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        pixels.withUnsafeMutableBufferPointer { px in
            for y in 0..<height {
                for x in 0..<width {
                    let t = Float(x + y) / Float(width + height)
                    let c = from + (to - from) * t
                    let i = (y * width + x) * 3
                    px[i] = UInt8(c.x)
                    px[i + 1] = UInt8(c.y)
                    px[i + 2] = UInt8(c.z)
                }
            }
            for shape in 0..<6 {
                let fill = colour()
                let cx = Int.random(in: 0..<width, using: &random), cy = Int.random(in: 0..<height, using: &random)
                let r = Int.random(in: 20...(min(width, height) / 3), using: &random)
                for y in max(0, cy - r)..<min(height, cy + r) {
                    for x in max(0, cx - r)..<min(width, cx + r) where shape % 2 == 0 || (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r {
                        let i = (y * width + x) * 3
                        px[i] = UInt8(fill.x)
                        px[i + 1] = UInt8(fill.y)
                        px[i + 2] = UInt8(fill.z)
                    }
                }
            }
            var state = random.next()
            for i in 0..<px.count {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let noise = Int(state >> 60) - 8
                px[i] = UInt8(clamping: Int(px[i]) + noise)
            }
        }
        return pixels
    }

    /// `pixels` (RGB, interleaved) as a baseline JPEG by libjpeg-turbo.
    static func jpeg(_ pixels: [UInt8], width: Int, height: Int, quality: Int32 = 90) throws -> [UInt8] {
        guard let handle = tjInitCompress() else { throw ValidationError("tjInitCompress failed") }
        defer { tjDestroy(handle) }
        var buffer: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let status = pixels.withUnsafeBufferPointer { px in
            tjCompress2(
                handle, px.baseAddress, Int32(width), 0, Int32(height), Int32(TJPF_RGB.rawValue), &buffer, &size,
                Int32(TJSAMP_420.rawValue), quality, 0)
        }
        defer { tjFree(buffer) }
        guard status == 0, let buffer else {
            throw ValidationError("JPEG compression failed: \(String(cString: tjGetErrorStr2(handle)))")
        }
        return Array(UnsafeBufferPointer(start: buffer, count: Int(size)))
    }

    /// `pixels` (RGB, interleaved) as a PNG by libpng's simplified API.
    static func png(_ pixels: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        var image = png_image()
        image.version = bench_png_image_version
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = bench_png_format_rgb
        var size = 0
        // First the size, then the bytes.
        guard pixels.withUnsafeBufferPointer({ png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, 0, nil) }) != 0 else {
            throw ValidationError("PNG size query failed")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        let written = bytes.withUnsafeMutableBytes { out in
            pixels.withUnsafeBufferPointer { png_image_write_to_memory(&image, out.baseAddress, &size, 0, $0.baseAddress, 0, nil) }
        }
        png_image_free(&image)
        guard written != 0 else { throw ValidationError("PNG compression failed") }
        return Array(bytes.prefix(size))
    }
}
