import Encoders
import ImageDecoding
import SearchCore
import Testing

/// Batched picture ingestion: decoding and preprocessing spread over threads,
/// each picture into its slot of one buffer, then one forward pass; and the
/// split API (`preprocess` + `embed(preprocessed:count:)`) an ingest stage uses.
@Suite("CLIPImageEncoder: batched pictures")
struct ImageBatchTests {
    /// A seeded picture of `width × height` with gradients and noise (resizing has work to do).
    static func picture(width: Int, height: Int, seed: UInt64) throws -> RGBImage {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let noise = Int(state >> 58)
                let i = (y * width + x) * 3
                pixels[i] = UInt8((x * 7 + noise + Int(seed)) & 255)
                pixels[i + 1] = UInt8((y * 5 + 2 * noise) & 255)
                pixels[i + 2] = UInt8(((x + y) * 3 + Int(seed) * 11) & 255)
            }
        }
        return try RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Nine PNGs of different sizes and aspect ratios (some smaller than the model's 32-pixel input).
    static func pngs() throws -> [ImageInput] {
        let sizes = [(40, 52), (64, 33), (31, 31), (80, 60), (25, 90), (48, 48), (100, 37), (33, 70), (56, 41)]
        return try sizes.enumerated().map { i, size in
            .encoded(PNGWriter.rgb(try picture(width: size.0, height: size.1, seed: UInt64(i + 1))))
        }
    }

    static func encoder(_ batching: BatchPolicy) throws -> CLIPImageEncoder {
        var encoder = try CLIPImageEncoder(directory: Fixtures.path("clip_openai"))
        encoder.batching = batching
        return encoder
    }

    static func embed(_ encoder: CLIPImageEncoder, _ images: [ImageInput]) throws -> [Float] {
        var out = [Float](repeating: 0, count: images.count * encoder.dimension)
        try out.withUnsafeMutableBufferPointer { try encoder.embed(images: images, into: $0) }
        return out
    }

    /// Batched and one-at-a-time embeddings preprocess each picture with the
    /// same code (bit for bit), but the patch GEMM and the blocks' projections
    /// run over 1 × 5 rows or N × 5 rows, which blocks the reductions (and may
    /// pick the packed kernel or OpenBLAS) differently: float32 sums in
    /// another order, each rounding at 2⁻²⁴ relative, through 2 blocks of
    /// width 64 give differences near 1e-6 on unit vectors; 1e-5 allows ten
    /// times that and still catches any picture landing in the wrong slot
    /// (embeddings of different pictures differ by more than 1e-2).
    static let batchTolerance: Float = 1e-5

    @Test(
        "N encoded pictures embedded in one call equal the same pictures one at a time",
        arguments: [
            BatchPolicy(maximumBatchSize: 64, concurrency: 1, preprocessingConcurrency: 2),
            BatchPolicy(maximumBatchSize: 64, concurrency: 1, preprocessingConcurrency: 1),
            BatchPolicy(maximumBatchSize: 4, concurrency: 2, preprocessingConcurrency: 2),
        ])
    func batchedEqualsOneAtATime(policy: BatchPolicy) throws {
        let encoder = try Self.encoder(policy)
        let pictures = try Self.pngs()
        let batched = try Self.embed(encoder, pictures)
        let d = encoder.dimension
        for (i, picture) in pictures.enumerated() {
            let alone = try Self.embed(encoder, [picture])
            let diff = maxAbsDifference(alone, batched[(i * d)..<((i + 1) * d)])
            #expect(diff <= Self.batchTolerance, "picture \(i) differs by \(diff)")
        }
        // Distinct pictures give distinct embeddings, so the comparison above can see a swapped slot.
        #expect(maxAbsDifference(batched[0..<d], batched[d..<(2 * d)]) > 100 * Self.batchTolerance)
    }

    @Test("preprocess into slots + embed(preprocessed:count:) equals embed(images:)")
    func splitEqualsWhole() throws {
        let encoder = try Self.encoder(BatchPolicy(preprocessingConcurrency: 2))
        let pictures = try Self.pngs() + [.rgb(try Self.picture(width: 45, height: 45, seed: 99))]
        let shape = encoder.inputShape
        #expect(shape == ImageInputShape(channels: 3, height: 32, width: 32))
        #expect(shape.floatCount == 3 * 32 * 32)
        var slots = [Float](repeating: .nan, count: pictures.count * shape.floatCount)
        var split = [Float](repeating: 0, count: pictures.count * encoder.dimension)
        try slots.withUnsafeMutableBufferPointer { slots in
            for (i, picture) in pictures.enumerated() {
                let slot = UnsafeMutableBufferPointer(rebasing: slots[(i * shape.floatCount)..<((i + 1) * shape.floatCount)])
                try encoder.preprocess(picture, into: slot)
            }
            try split.withUnsafeMutableBufferPointer {
                try encoder.embed(preprocessed: UnsafeBufferPointer(slots), count: pictures.count, into: $0)
            }
        }
        // One pass over the same inputs in both: the same arithmetic, so the same floats.
        #expect(split == (try Self.embed(encoder, pictures)))
        // A preprocessed slot fed back as ImageInput.preprocessed embeds as the picture it came from.
        let first = Array(slots[0..<shape.floatCount])
        let again = try Self.embed(encoder, [.preprocessed(first, width: shape.width, height: shape.height)])
        #expect(again == (try Self.embed(encoder, [pictures[0]])))
    }

    @Test("preprocessed input of another shape, and a batch of the wrong size, are dimension mismatches")
    func wrongShape() throws {
        let encoder = try Self.encoder(BatchPolicy())
        let shape = encoder.inputShape
        let wide = ImageInput.preprocessed([Float](repeating: 0, count: 3 * 32 * 48), width: 48, height: 32)
        var out = [Float](repeating: 0, count: 2 * encoder.dimension)
        #expect {
            try out.withUnsafeMutableBufferPointer {
                try encoder.embed(images: [.preprocessed([Float](repeating: 0, count: shape.floatCount), width: 32, height: 32), wide], into: $0)
            }
        } throws: { error in
            let e = error as? SearchError
            return e?.code == .dimensionMismatch && e?.message.contains("image 1 of 2") == true
                && e?.message.contains("48×32") == true && e?.message.contains("preprocess(_:into:)") == true
        }
        var slot = [Float](repeating: 0, count: shape.floatCount)
        #expect {
            try slot.withUnsafeMutableBufferPointer { try encoder.preprocess(wide, into: $0) }
        } throws: { ($0 as? SearchError)?.code == .dimensionMismatch }
        #expect {
            try slot.withUnsafeBufferPointer { batch in
                try out.withUnsafeMutableBufferPointer { try encoder.embed(preprocessed: batch, count: 2, into: $0) }
            }
        } throws: { ($0 as? SearchError)?.code == .dimensionMismatch }
    }

    @Test("a broken picture in a batch is a typed error naming the first broken position, on every run")
    func brokenPicture() throws {
        let encoder = try Self.encoder(BatchPolicy(maximumBatchSize: 64, concurrency: 1, preprocessingConcurrency: 2))
        var pictures = try Self.pngs()
        guard case .encoded(let png) = pictures[2] else { Issue.record("not encoded"); return }
        pictures[2] = .encoded(Array(png.prefix(60)))  // truncated inside the image data
        pictures[6] = .encoded([0x00, 0x01, 0x02, 0x03])  // no known signature
        var out = [Float](repeating: 0, count: pictures.count * encoder.dimension)
        for _ in 0..<20 {
            do {
                try out.withUnsafeMutableBufferPointer { try encoder.embed(images: pictures, into: $0) }
                Issue.record("a broken picture was embedded")
            } catch let error as SearchError {
                #expect(error.message.hasPrefix("image 2 of 9:"), "\(error)")
                #expect(error.code == .corruptData || error.code == .unsupportedFormat)
            }
        }
        // Alone, the other broken picture is reported at its own position.
        pictures[2] = try Self.pngs()[2]
        #expect {
            try out.withUnsafeMutableBufferPointer { try encoder.embed(images: pictures, into: $0) }
        } throws: { ($0 as? SearchError)?.message.hasPrefix("image 6 of 9:") == true }
    }
}
