@testable import Encoders
import ImageDecoding
import SearchCore
import Tensor
import Testing

/// A large pass of pictures split by pictures: each thread preprocesses and
/// embeds its own group with one-thread GEMMs. Every row of the packed GEMM,
/// every attention job and every layer norm is the same arithmetic whichever
/// group it lands in, so the final states must equal the unsplit pass's bit
/// for bit, and errors must name the same picture as unsplit.
@Suite("CLIPImageEncoder: a pass split by pictures over threads")
struct PictureSplitTests {
    static func encoder() throws -> CLIPImageEncoder {
        try CLIPImageEncoder(directory: Fixtures.path("clip_openai"))
    }

    /// `count` distinct encoded pictures of assorted sizes.
    static func pictures(_ count: Int) throws -> [ImageInput] {
        try (0..<count).map { i in
            .encoded(PNGWriter.rgb(try ImageBatchTests.picture(width: 33 + 7 * i % 40, height: 40 + 5 * i % 31, seed: UInt64(i + 3))))
        }
    }

    @Test(
        "final states in 2, 3 and 7 groups equal the unsplit pass's on 1 and 2 threads bit for bit",
        .enabled(if: LinearLayerMatrix.packingAvailable, "the split applies only on the packed GEMM"))
    func groupsEqualUnsplit() throws {
        let encoder = try Self.encoder()
        #expect(encoder.stack.splitsExactly)
        let pictures = try Self.pictures(20)
        let shape = encoder.inputShape, w = encoder.configuration.width
        var slots = [Float](repeating: .nan, count: pictures.count * shape.floatCount)
        try slots.withUnsafeMutableBufferPointer { slots in
            for (i, picture) in pictures.enumerated() {
                try encoder.preprocess(picture, into: UnsafeMutableBufferPointer(rebasing: slots[(i * shape.floatCount)..<((i + 1) * shape.floatCount)]))
            }
        }
        func unsplit(threads: Int) -> [Float] {
            var states = [Float](repeating: .nan, count: pictures.count * w)
            slots.withUnsafeBufferPointer { slots in
                states.withUnsafeMutableBufferPointer { states in
                    let done = encoder.finalStates(
                        count: pictures.count, sizeOf: { _ in (shape.width, shape.height) },
                        pixelsOf: { i, body in body(UnsafeBufferPointer(rebasing: slots[(i * shape.floatCount)..<((i + 1) * shape.floatCount)])) },
                        threads: threads, into: states.baseAddress!)
                    #expect(done)
                }
            }
            return states
        }
        let reference = unsplit(threads: 1)
        #expect(!reference.contains { $0.isNaN })
        #expect(unsplit(threads: 2) == reference)
        for groups in [2, 3, 7] {
            var states = [Float](repeating: .nan, count: pictures.count * w)
            let failure = slots.withUnsafeMutableBufferPointer { slots in
                states.withUnsafeMutableBufferPointer { states in
                    encoder.groupStates(
                        count: pictures.count, groups: groups, slots: ArenaSlots(base: slots.baseAddress!, size: shape.floatCount),
                        prepare: { _ in nil }, into: states.baseAddress!)
                }
            }
            #expect(failure == nil)
            #expect(states == reference, "\(groups) groups")
        }
        // Distinct pictures have distinct states, so a picture in the wrong slot would show.
        #expect(reference[0..<w] != reference[w..<(2 * w)])
    }

    @Test(
        "embed(images:) splits a pass of 8 pictures a thread, equals one at a time, and names the first broken picture",
        .enabled(if: LinearLayerMatrix.packingAvailable, "the split applies only on the packed GEMM"))
    func publicPathSplits() throws {
        var encoder = try Self.encoder()
        encoder.threadCount = 2
        encoder.batching = BatchPolicy(maximumBatchSize: 64, concurrency: 1, preprocessingConcurrency: 2)
        #expect(encoder.pictureGroups(count: 16) == 2)
        #expect(encoder.pictureGroups(count: 15) == 1)
        #expect(encoder.pictureGroups(count: 1) == 1)
        var pictures = try Self.pictures(16)
        let batched = try ImageBatchTests.embed(encoder, pictures)
        let d = encoder.dimension
        for (i, picture) in pictures.enumerated() {
            let alone = try ImageBatchTests.embed(encoder, [picture])
            let diff = maxAbsDifference(alone, batched[(i * d)..<((i + 1) * d)])
            #expect(diff <= ImageBatchTests.batchTolerance, "picture \(i) differs by \(diff)")
        }
        // The same 16 preprocessed pictures through embed(preprocessed:count:) take the same split.
        let shape = encoder.inputShape
        var slots = [Float](repeating: 0, count: pictures.count * shape.floatCount)
        var split = [Float](repeating: 0, count: pictures.count * d)
        try slots.withUnsafeMutableBufferPointer { slots in
            for (i, picture) in pictures.enumerated() {
                try encoder.preprocess(picture, into: UnsafeMutableBufferPointer(rebasing: slots[(i * shape.floatCount)..<((i + 1) * shape.floatCount)]))
            }
            try split.withUnsafeMutableBufferPointer {
                try encoder.embed(preprocessed: UnsafeBufferPointer(slots), count: pictures.count, into: $0)
            }
        }
        #expect(split == batched)
        // Broken pictures in both groups: the first by position is reported, on every run.
        pictures[11] = .encoded([0x00, 0x01, 0x02, 0x03])
        pictures[3] = .encoded([0x89, 0x50, 0x4E, 0x47])
        var out = [Float](repeating: 0, count: pictures.count * d)
        for _ in 0..<10 {
            #expect {
                try out.withUnsafeMutableBufferPointer { try encoder.embed(images: pictures, into: $0) }
            } throws: { ($0 as? SearchError)?.message.hasPrefix("image 3 of 16:") == true }
        }
        pictures[3] = try Self.pictures(4)[3]
        #expect {
            try out.withUnsafeMutableBufferPointer { try encoder.embed(images: pictures, into: $0) }
        } throws: { ($0 as? SearchError)?.message.hasPrefix("image 11 of 16:") == true }
    }
}
