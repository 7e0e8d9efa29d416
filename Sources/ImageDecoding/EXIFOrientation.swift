import SearchCore

/// The EXIF orientation tag (0x0112): how the stored pixels must be turned to
/// stand upright. Raw values are the tag's.
public enum EXIFOrientation: UInt16, Sendable, CaseIterable {
    case up = 1
    case upMirrored = 2
    case down = 3
    case downMirrored = 4
    case leftMirrored = 5
    case right = 6
    case rightMirrored = 7
    case left = 8

    /// Whether turning upright swaps width and height.
    public var swapsAxes: Bool { rawValue >= 5 }

    /// The stored pixel that lands at upright position (x, y), for a stored
    /// image of `width` × `height`. Matches Pillow's `ImageOps.exif_transpose`.
    @inlinable
    func source(x: Int, y: Int, width: Int, height: Int) -> (x: Int, y: Int) {
        switch self {
        case .up: (x, y)
        case .upMirrored: (width - 1 - x, y)
        case .down: (width - 1 - x, height - 1 - y)
        case .downMirrored: (x, height - 1 - y)
        case .leftMirrored: (y, x)
        case .right: (y, height - 1 - x)
        case .rightMirrored: (width - 1 - y, height - 1 - x)
        case .left: (width - 1 - y, x)
        }
    }
}

extension EXIFOrientation {
    /// Reads the orientation from a JPEG's APP1 Exif segment or a PNG's eXIf
    /// chunk; `.up` when absent or unreadable (a malformed tag never fails a
    /// decode, it is ignored, as Pillow ignores it).
    static func read(from bytes: UnsafeRawBufferPointer, format: ImageFormat) -> EXIFOrientation {
        let tiff: Range<Int>?
        switch format {
        case .jpeg: tiff = jpegExifRange(bytes)
        case .png: tiff = pngExifRange(bytes)
        }
        guard let tiff else { return .up }
        return parseTIFFOrientation(UnsafeRawBufferPointer(rebasing: bytes[tiff])) ?? .up
    }

    /// The TIFF payload of the first APP1 "Exif\0\0" segment, scanning markers
    /// (big-endian lengths) up to the start of scan.
    private static func jpegExifRange(_ b: UnsafeRawBufferPointer) -> Range<Int>? {
        var i = 2
        while i + 4 <= b.count {
            guard b[i] == 0xFF else { return nil }
            let marker = b[i + 1]
            if marker == 0xFF {  // fill byte
                i += 1
                continue
            }
            if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) {
                i += 2
                continue
            }
            if marker == 0xDA || marker == 0xD9 { return nil }  // start of scan / end of image
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])  // big-endian, includes itself
            guard length >= 2, i + 2 + length <= b.count else { return nil }
            let payload = (i + 4)..<(i + 2 + length)
            if marker == 0xE1, payload.count >= 6,
                b[payload.lowerBound] == 0x45, b[payload.lowerBound + 1] == 0x78,  // "Ex"
                b[payload.lowerBound + 2] == 0x69, b[payload.lowerBound + 3] == 0x66,  // "if"
                b[payload.lowerBound + 4] == 0, b[payload.lowerBound + 5] == 0
            {
                return (payload.lowerBound + 6)..<payload.upperBound
            }
            i += 2 + length
        }
        return nil
    }

    /// The payload of the first eXIf chunk (chunk lengths are big-endian).
    private static func pngExifRange(_ b: UnsafeRawBufferPointer) -> Range<Int>? {
        var i = 8
        while i + 12 <= b.count {
            let length = Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
            guard length >= 0, length <= b.count - i - 12 else { return nil }
            let type = (b[i + 4], b[i + 5], b[i + 6], b[i + 7])
            if type == (0x65, 0x58, 0x49, 0x66) {  // "eXIf"
                return (i + 8)..<(i + 8 + length)
            }
            if type == (0x49, 0x45, 0x4E, 0x44) { return nil }  // "IEND"
            i += 12 + length
        }
        return nil
    }

    /// Finds tag 0x0112 in IFD0 of a TIFF structure ("II" little-endian or
    /// "MM" big-endian, as its header says).
    private static func parseTIFFOrientation(_ t: UnsafeRawBufferPointer) -> EXIFOrientation? {
        guard t.count >= 8 else { return nil }
        let little: Bool
        switch (t[0], t[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ at: Int) -> Int? {
            guard at >= 0, at + 2 <= t.count else { return nil }
            return little ? Int(t[at]) | Int(t[at + 1]) << 8 : Int(t[at]) << 8 | Int(t[at + 1])
        }
        func u32(_ at: Int) -> Int? {
            guard let hi = u16(little ? at + 2 : at), let lo = u16(little ? at : at + 2) else { return nil }
            return hi << 16 | lo
        }
        guard u16(2) == 42, let ifd = u32(4), let entries = u16(ifd) else { return nil }
        for e in 0..<min(entries, 512) {
            let entry = ifd + 2 + 12 * e
            guard let tag = u16(entry) else { return nil }
            if tag == 0x0112 {
                guard u16(entry + 2) == 3, let value = u16(entry + 8) else { return nil }  // SHORT
                return EXIFOrientation(rawValue: UInt16(value))
            }
        }
        return nil
    }
}

extension RGBImage {
    /// This image turned upright as `orientation` says.
    public func applying(_ orientation: EXIFOrientation) -> RGBImage {
        if orientation == .up { return self }
        let (w, h) = (width, height)
        let (outW, outH) = orientation.swapsAxes ? (h, w) : (w, h)
        var out = [UInt8](repeating: 0, count: outW * outH * 3)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<outH {
                    for x in 0..<outW {
                        let s = orientation.source(x: x, y: y, width: w, height: h)
                        let si = (s.y * w + s.x) * 3, di = (y * outW + x) * 3
                        dst[di] = src[si]
                        dst[di + 1] = src[si + 1]
                        dst[di + 2] = src[si + 2]
                    }
                }
            }
        }
        return RGBImage(validatedWidth: outW, height: outH, pixels: out)
    }
}
