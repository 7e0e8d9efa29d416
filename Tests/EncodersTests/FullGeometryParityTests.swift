import Encoders
import Foundation
import SearchCore
import Testing

/// Full-size geometry (12–27 layers, width 768–1152, 224–384 px) with seeded
/// random weights, saved as `save_pretrained` / open_clip write them and run
/// by the reference libraries: `scripts/fixtures/make_siglip_fixtures.py --full NAME`
/// writes each model and its `reference.json` into `.build/full-geometry/NAME`
/// (hundreds of MB each, so never committed; `scripts/full-geometry.sh`
/// makes the environment and the files). `$MMS_FULL_GEOMETRY` points
/// elsewhere; `$MMS_FULL_GEOMETRY_REQUIRED` (comma-separated names) makes
/// those models' absence a failure, as CI does for one of them.
@Suite("Full-geometry parity (generated models)")
struct FullGeometryParityTests {
    struct Reference: Decodable {
        struct Pixels: Decodable {
            var shape: [Int]
            var pixels: [Float]
        }
        var token_ids: [[Int32]]
        var images: Pixels?
        var image_embeddings: [Float]?
        var text_embeddings: [Float]
    }

    static let models = [
        "siglip-base-patch16-224", "siglip-so400m-patch14-384", "clip-vit-b32-hf", "clip-vit-b32-openclip",
        "clip-vit-l14-336-hf", "clip-vit-l14-336-openclip", "xlmr-base-mclip", "nllb-clip-base-siglip",
    ]

    static var root: String {
        if let path = ProcessInfo.processInfo.environment["MMS_FULL_GEOMETRY"], !path.isEmpty { return path }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/full-geometry").path
    }

    static var required: Set<String> {
        Set((ProcessInfo.processInfo.environment["MMS_FULL_GEOMETRY_REQUIRED"] ?? "").split(separator: ",").map(String.init))
    }

    /// 1e-4 max abs on unit vectors, as for the tiny models: the weights are
    /// exactly those the reference ran (F32), so only summation order and the
    /// kernels' `exp`/`erf`/`tanh` approximations differ, over more layers.
    static let tolerance: Float = 1e-4

    @Test("every generated model: normalised image and text embeddings within 1e-4 of the reference", arguments: models)
    func parity(_ name: String) throws {
        let directory = Self.root + "/" + name
        guard FileManager.default.fileExists(atPath: directory + "/reference.json") else {
            #expect(!Self.required.contains(name), "\(name) is required but \(directory) has no reference.json")
            print("full geometry \(name): not generated (scripts/full-geometry.sh \(name))")
            return
        }
        let reference = try JSONDecoder().decode(
            Reference.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/reference.json")))
        let folder = try ModelFolder(directory: directory)
        var imageDiff: Float?
        if let pixels = reference.images, let expected = reference.image_embeddings {
            var images = try folder.imageEncoder()
            images.batching.maximumBatchSize = 1
            let (n, h, w) = (pixels.shape[0], pixels.shape[2], pixels.shape[3])
            let size = 3 * h * w
            let inputs: [ImageInput] = (0..<n).map {
                .preprocessed(Array(pixels.pixels[(size * $0)..<(size * ($0 + 1))]), width: w, height: h)
            }
            var out = [Float](repeating: 0, count: n * images.dimension)
            try out.withUnsafeMutableBufferPointer { try images.embed(images: inputs, into: $0) }
            imageDiff = maxAbsDifference(out, expected)
            #expect(out.count == expected.count)
            #expect(imageDiff! <= Self.tolerance, "\(name) image embeddings differ by \(imageDiff!)")
        }
        var out: [Float] = []
        switch folder.layout {
        case .huggingFaceCLIP, .openCLIP:
            let configuration = folder.layout == .openCLIP
                ? try CLIPConfiguration(openCLIPConfigPath: directory + "/open_clip_config.json")
                : try CLIPConfiguration(huggingFaceConfigPath: directory + "/config.json")
            let text = try CLIPTextEncoder(
                weights: SafetensorsFile(path: folder.weightsPath), configuration: configuration.text,
                tokenizer: CLIPParityTests.tokenizer())
            out = [Float](repeating: 0, count: reference.token_ids.count * text.dimension)
            try out.withUnsafeMutableBufferPointer { try text.embed(tokenIDs: reference.token_ids, into: $0) }
        case .huggingFaceSigLIP, .openCLIPSigLIP:
            let text = try #require(try folder.textEncoder() as? SigLIPTextEncoder)
            out = [Float](repeating: 0, count: reference.token_ids.count * text.dimension)
            try out.withUnsafeMutableBufferPointer { try text.embed(tokenIDs: reference.token_ids, into: $0) }
        case .openCLIPNLLBSigLIP:
            let (configuration, dimension) = try folder.nllbConfiguration()
            let text = try NLLBTextEncoder(
                weights: SafetensorsFile(path: folder.weightsPath), configuration: configuration, dimension: dimension)
            out = [Float](repeating: 0, count: reference.token_ids.count * text.dimension)
            try out.withUnsafeMutableBufferPointer { try text.embed(tokenIDs: reference.token_ids, into: $0) }
        case .multilingualCLIP:
            let text = try MultilingualCLIPTextEncoder(directory: directory)
            out = [Float](repeating: 0, count: reference.token_ids.count * text.dimension)
            try out.withUnsafeMutableBufferPointer { try text.embed(tokenIDs: reference.token_ids, into: $0) }
        }
        let textDiff = maxAbsDifference(out, reference.text_embeddings)
        #expect(out.count == reference.text_embeddings.count)
        #expect(textDiff <= Self.tolerance, "\(name) text embeddings differ by \(textDiff)")
        print("full geometry \(name) (\(folder.layout)): image max |Δ| \(imageDiff.map { "\($0)" } ?? "—"), text max |Δ| \(textDiff)")
    }
}
