import Encoders
import Foundation
import SearchCore
import Testing

/// Cutting a batch into passes and running them on two threads changes
/// nothing but speed: each item's embedding is the one it gets alone.
@Suite("Batch policy: passes and concurrency")
struct BatchPolicyTests {
    @Test("tiny CLIP images, one per pass on two threads: identical to one at a time")
    func clipImages() throws {
        let reference = try Fixtures.json(CLIPParityTests.Reference.self, "clip_reference.json")
        var encoder = try CLIPImageEncoder(directory: Fixtures.path("clip_openai"))
        let images = CLIPParityTests.images(reference.images) + CLIPParityTests.images(reference.images)
        let d = encoder.dimension
        var alone: [Float] = []
        for image in images {
            var out = [Float](repeating: 0, count: d)
            try out.withUnsafeMutableBufferPointer { try encoder.embed(images: [image], into: $0) }
            alone += out
        }
        encoder.batching = BatchPolicy(maximumBatchSize: 1, concurrency: 2)
        var batched = [Float](repeating: 0, count: images.count * d)
        try batched.withUnsafeMutableBufferPointer { try encoder.embed(images: images, into: $0) }
        #expect(batched == alone)
    }

    @Test("CLIP text in passes of 2 on two threads: within 1e-6 of one pass; an error in a later pass is thrown")
    func clipText() throws {
        let reference = try Fixtures.json(CLIPParityTests.Reference.self, "clip_reference.json")
        let directory = try Fixtures.path("clip_openai")
        let config = try CLIPConfiguration(openCLIPConfigPath: directory + "/open_clip_config.json")
        var encoder = try CLIPTextEncoder(
            weights: SafetensorsFile(path: directory + "/model.safetensors"), configuration: config.text,
            tokenizer: CLIPParityTests.tokenizer())
        let ids = reference.token_ids + reference.token_ids.reversed()
        var onePass = [Float](repeating: 0, count: ids.count * encoder.dimension)
        try onePass.withUnsafeMutableBufferPointer { try encoder.embed(tokenIDs: ids, into: $0) }
        encoder.batching = BatchPolicy(maximumBatchSize: 2, concurrency: 2)
        var passes = [Float](repeating: 0, count: onePass.count)
        try passes.withUnsafeMutableBufferPointer { try encoder.embed(tokenIDs: ids, into: $0) }
        // Packing fewer sequences per GEMM changes only the summation order.
        #expect(maxAbsDifference(passes, onePass) <= 1e-6)

        let bad = ids + [[49_406, 1_000_000, 49_407]]
        var out = [Float](repeating: 0, count: bad.count * encoder.dimension)
        #expect(throws: SearchError.self) {
            try out.withUnsafeMutableBufferPointer { try encoder.embed(tokenIDs: bad, into: $0) }
        }
    }
}
