import Foundation
import SearchCore
import Testing

@testable import ImageDecoding

@Suite("Decoding against Pillow")
struct DecodingTests {
    @Test("each fixture decodes to Pillow's pixels", arguments: Fixture.manifest.decode.map(\.file))
    func decode(file: String) throws {
        let entry = try #require(Fixture.manifest.decode.first { $0.file == file })
        let image = try ImageDecoder.decode(try Fixture.bytes(file))
        let expected = try Fixture.bytes(file + ".rgb")
        #expect(image.width == entry.width && image.height == entry.height, "\(entry.note)")
        try #require(image.pixels.count == expected.count)
        let worst = zip(image.pixels, expected).map { abs(Int($0) - Int($1)) }.max() ?? 0
        // Exact cases decode through the same libjpeg-turbo / libpng arithmetic as Pillow;
        // CMYK and 16-bit conversions may round differently by one level.
        #expect(worst <= (entry.exact ? 0 : 1), "\(entry.note): differs by up to \(worst) levels")
    }

    @Test("the manifest lists every case")
    func manifestPresent() {
        #expect(Fixture.manifest.decode.count >= 18)
        #expect(Fixture.manifest.resize.count >= 8)
        #expect(Fixture.manifest.preprocess.count == 3)
    }

    @Test("the header gives size and orientation without decoding")
    func info() throws {
        let info = try ImageDecoder.readInfo(try Fixture.bytes("orientation6.jpg"))
        #expect(info.format == .jpeg)
        #expect(info.width == 97 && info.height == 71)
        #expect(info.orientation == .right)
        #expect(info.uprightSize == (71, 97))
        let stored = try ImageDecoder.decode(try Fixture.bytes("orientation6.jpg"), options: .init(appliesOrientation: false))
        #expect(stored.width == 97)
        #expect(try ImageDecoder.readInfo(try Fixture.bytes("rgba.png")).format == .png)
    }

    @Test("a PNG's transparent pixels take the chosen background")
    func background() throws {
        let black = try ImageDecoder.decode(try Fixture.bytes("rgba.png"), options: .init(background: .black))
        let white = try ImageDecoder.decode(try Fixture.bytes("rgba.png"))
        // Rows 10..<15 are fully transparent in the fixture.
        let offset = (12 * black.width + 5) * 3
        #expect(Array(black.pixels[offset..<(offset + 3)]) == [0, 0, 0])
        #expect(Array(white.pixels[offset..<(offset + 3)]) == [255, 255, 255])
        // Row 0 is opaque: the background does not show.
        #expect(black.pixels[0..<3] == white.pixels[0..<3])
    }

    @Test("DCT downscaling picks the smallest scale that keeps the short side")
    func dctScaling() throws {
        let bytes = try Fixture.bytes("baseline.jpg")
        // 97×71: 1/8 → 9, 1/4 → 18, 3/8 → 27, so 20 pixels need 3/8.
        let small = try ImageDecoder.decode(bytes, options: .init(minimumShortSide: 20))
        #expect(small.width == 37 && small.height == 27)
        let full = try ImageDecoder.decode(bytes)
        let reference = Resampler.resize(full, width: 37, height: 27, filter: .bilinear)
        let meanDifference = Double(zip(small.pixels, reference.pixels).map { abs(Int($0) - Int($1)) }.reduce(0, +))
            / Double(small.pixels.count)
        // Different filters, same picture: a few levels apart on average.
        #expect(meanDifference < 8, "mean difference \(meanDifference)")
        let same = try ImageDecoder.decode(bytes, options: .init(minimumShortSide: 71))
        #expect(same == full)
    }
}

@Suite("Hostile and damaged input")
struct HostileInputTests {
    func expectError(_ code: SearchError.Code, _ bytes: [UInt8], options: DecodingOptions = .init(), _ comment: String) {
        do {
            _ = try ImageDecoder.decode(bytes, options: options)
            Issue.record("\(comment): decoded without an error")
        } catch {
            #expect(error.code == code, "\(comment): \(error)")
            #expect(!error.message.isEmpty)
        }
    }

    @Test("truncated, corrupt, empty and mislabelled files are typed errors")
    func damaged() throws {
        expectError(.corruptData, try Fixture.bytes("truncated.jpg"), "truncated JPEG")
        expectError(.corruptData, try Fixture.bytes("truncated.png"), "truncated PNG")
        expectError(.corruptData, try Fixture.bytes("corrupt.png"), "corrupt PNG")
        expectError(.unsupportedFormat, try Fixture.bytes("not-an-image.png"), "text named .png")
        expectError(.unsupportedFormat, try Fixture.bytes("empty.jpg"), "empty file")
        expectError(.corruptData, [0xFF, 0xD8, 0xFF, 0xE0, 0x00], "JPEG magic and nothing else")
        expectError(.corruptData, Array(try Fixture.bytes("rgb.png").prefix(20)), "PNG signature and half a header")
    }

    @Test("a truncated JPEG decodes when recoverable errors are allowed")
    func recoverable() throws {
        let image = try ImageDecoder.decode(try Fixture.bytes("truncated.jpg"), options: .init(allowsRecoverableErrors: true))
        #expect(image.width == 97 && image.height == 71)
    }

    /// Rewrites the SOF0 frame size of a JPEG (big-endian height, then width).
    static func jpegClaiming(width: Int, height: Int) throws -> [UInt8] {
        var bytes = try Fixture.bytes("baseline.jpg")
        var i = 2
        while i + 9 < bytes.count {
            let marker = bytes[i + 1]
            let length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            if marker == 0xC0 || marker == 0xC2 {
                bytes[i + 5] = UInt8(height >> 8)
                bytes[i + 6] = UInt8(height & 0xFF)
                bytes[i + 7] = UInt8(width >> 8)
                bytes[i + 8] = UInt8(width & 0xFF)
                return bytes
            }
            i += 2 + length
        }
        throw CocoaError(.fileReadCorruptFile)
    }

    /// Rewrites a PNG's IHDR size and its CRC, so only the size is wrong.
    static func pngClaiming(width: UInt32, height: UInt32) throws -> [UInt8] {
        var bytes = try Fixture.bytes("rgb.png")
        func put(_ v: UInt32, at o: Int) {
            for k in 0..<4 { bytes[o + k] = UInt8((v >> (24 - 8 * UInt32(k))) & 0xFF) }
        }
        put(width, at: 16)
        put(height, at: 20)
        put(crc32(Array(bytes[12..<29])), at: 29)
        return bytes
    }

    static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    @Test("a 65,000 × 65,000 header is refused before any pixel memory is allocated")
    func bombs() throws {
        expectError(.resourceLimit, try Self.jpegClaiming(width: 65_000, height: 65_000), "JPEG bomb")
        expectError(.resourceLimit, try Self.pngClaiming(width: 65_000, height: 65_000), "PNG bomb")
        // Tighter limits refuse ordinary files with the same code and say how to raise them.
        let tight = DecodingOptions(limits: DecodingLimits(maxWidth: 50, maxHeight: 50, maxPixels: 2_500))
        let baseline = try Fixture.bytes("baseline.jpg")
        do {
            _ = try ImageDecoder.decode(baseline, options: tight)
            Issue.record("a 97-pixel-wide image passed a 50-pixel limit")
        } catch {
            #expect(error.code == .resourceLimit)
            #expect(error.message.contains("97×71") && error.message.contains("DecodingLimits"))
        }
        let sizeLimit = DecodingOptions(limits: DecodingLimits(maxInputBytes: 100))
        expectError(.resourceLimit, try Fixture.bytes("baseline.jpg"), options: sizeLimit, "input byte limit")
    }

    @Test("a PNG whose image data stops early is an error even when its header is fine")
    func pngClaimingMore() throws {
        expectError(.corruptData, try Self.pngClaiming(width: 500, height: 500), "PNG whose data is too short for its size")
    }
}
