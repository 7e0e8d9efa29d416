import Encoders
import Foundation
import ImageDecoding
import SearchCore
import Testing

/// Encoded and RGB inputs go through the encoder's decoder and preprocessor;
/// the embedding must be the one the same preprocessing done by hand gives,
/// bit for bit (the same arithmetic on the same pixels).
@Suite("CLIPImageEncoder: encoded and RGB input")
struct ImageInputTests {
    static func encoder() throws -> CLIPImageEncoder {
        try CLIPImageEncoder(directory: Fixtures.path("clip_openai"))
    }

    /// A seeded 40 × 52 picture with gradients and noise, so resizing has work to do.
    static func picture() throws -> RGBImage {
        let width = 40, height = 52
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let noise = Int(state >> 59)
                let i = (y * width + x) * 3
                pixels[i] = UInt8((x * 6 + noise) & 255)
                pixels[i + 1] = UInt8((y * 5 + 2 * noise) & 255)
                pixels[i + 2] = UInt8(((x + y) * 3) & 255)
            }
        }
        return try RGBImage(width: width, height: height, pixels: pixels)
    }

    /// The embedding of pixels preprocessed by hand with CLIP's settings at the model's size.
    static func byHand(_ image: RGBImage, encoder: CLIPImageEncoder) throws -> [Float] {
        let size = encoder.configuration.imageSize
        let clip = ImagePreprocessor.clip
        let preprocessor = ImagePreprocessor(
            shortSide: size, cropWidth: size, cropHeight: size, mean: clip.mean, std: clip.std)
        var pixels = [Float](repeating: 0, count: preprocessor.outputCount)
        try pixels.withUnsafeMutableBufferPointer { try preprocessor.preprocess(image, into: $0) }
        var out = [Float](repeating: 0, count: encoder.dimension)
        try out.withUnsafeMutableBufferPointer {
            try encoder.embed(images: [.preprocessed(pixels, width: size, height: size)], into: $0)
        }
        return out
    }

    @Test("PNG bytes and RGB pixels embed as the same pixels preprocessed by hand")
    func encodedPNG() throws {
        let encoder = try Self.encoder()
        let image = try Self.picture()
        let expected = try Self.byHand(image, encoder: encoder)
        let png = PNGWriter.rgb(image)
        let d = encoder.dimension
        // One at a time: the same pixels through the same arithmetic, so bit for bit.
        for input in [ImageInput.encoded(png), .rgb(image)] {
            var out = [Float](repeating: 0, count: d)
            try out.withUnsafeMutableBufferPointer { try encoder.embed(images: [input], into: $0) }
            #expect(out == expected)
        }
        // Mixed in one batch: the packed GEMMs sum in another order (within 1e-6 on a unit vector).
        var out = [Float](repeating: 0, count: 3 * d)
        try out.withUnsafeMutableBufferPointer {
            try encoder.embed(
                images: [.encoded(png), .rgb(image), .preprocessed(Self.preprocessed(image, encoder), width: 32, height: 32)],
                into: $0)
        }
        for i in 0..<3 {
            #expect(maxAbsDifference(out[(i * d)..<((i + 1) * d)], expected) <= 1e-6)
        }
    }

    static func preprocessed(_ image: RGBImage, _ encoder: CLIPImageEncoder) throws -> [Float] {
        var pixels = [Float](repeating: 0, count: encoder.preprocessor.outputCount)
        try pixels.withUnsafeMutableBufferPointer { try encoder.preprocessor.preprocess(image, into: $0) }
        return pixels
    }

    @Test("undecodable bytes are a typed error, not a crash")
    func garbage() throws {
        let encoder = try Self.encoder()
        var out = [Float](repeating: 0, count: encoder.dimension)
        #expect(throws: SearchError.self) {
            try out.withUnsafeMutableBufferPointer { try encoder.embed(images: [.encoded([1, 2, 3, 4, 5])], into: $0) }
        }
    }
}

/// The smallest valid PNG writer: 8-bit RGB, no filtering, stored (uncompressed) deflate blocks.
enum PNGWriter {
    static func rgb(_ image: RGBImage) -> [UInt8] {
        var raw: [UInt8] = []
        for y in 0..<image.height {
            raw.append(0)  // filter type None
            raw += image.pixels[(y * image.width * 3)..<((y + 1) * image.width * 3)]
        }
        var zlib: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let length = min(65_535, raw.count - offset)
            let last: UInt8 = offset + length == raw.count ? 1 : 0
            zlib += [last, UInt8(length & 255), UInt8(length >> 8), UInt8(~length & 255), UInt8((~length >> 8) & 255)]
            zlib += raw[offset..<(offset + length)]
            offset += length
        } while offset < raw.count
        zlib += bigEndian(adler32(raw))
        var header = bigEndian(UInt32(image.width)) + bigEndian(UInt32(image.height))
        header += [8, 2, 0, 0, 0]  // depth 8, colour type RGB, deflate, adaptive filters, no interlace
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
            + chunk("IHDR", header) + chunk("IDAT", zlib) + chunk("IEND", [])
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + typed + bigEndian(crc32(typed))
    }

    static func bigEndian(_ x: UInt32) -> [UInt8] {
        [UInt8(x >> 24), UInt8((x >> 16) & 255), UInt8((x >> 8) & 255), UInt8(x & 255)]
    }

    /// zlib's CRC-32 (reflected polynomial 0xEDB88320), bit by bit.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for x in bytes {
            a = (a + UInt32(x)) % 65_521
            b = (b + a) % 65_521
        }
        return (b << 16) | a
    }
}
