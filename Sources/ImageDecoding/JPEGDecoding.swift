import CTurboJPEG
import SearchCore

/// JPEG through TurboJPEG. One decompressor handle per call: handles are cheap
/// next to a decode, and this keeps the decoder free of shared state.
enum JPEGDecoding {
    /// The owner of a TurboJPEG handle, destroyed with it.
    private struct Handle: ~Copyable {
        let raw: tjhandle

        init() throws(SearchError) {
            guard let raw = tjInitDecompress() else {
                throw SearchError(.io, "libjpeg-turbo could not create a decompressor (out of memory?)")
            }
            self.raw = raw
        }

        deinit { tjDestroy(raw) }

        var lastError: String {
            guard let message = tjGetErrorStr2(raw) else { return "unknown libjpeg-turbo error" }
            return String(cString: message)
        }
    }

    private struct Header {
        var width: Int
        var height: Int
        var colorspace: Int32
    }

    private static func header(_ handle: borrowing Handle, _ bytes: UnsafeRawBufferPointer) throws(SearchError) -> Header {
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let status = tjDecompressHeader3(handle.raw, base, UInt(bytes.count), &width, &height, &subsampling, &colorspace)
        guard status == 0 else {
            throw SearchError(.corruptData, "not a readable JPEG header: \(handle.lastError)")
        }
        return Header(width: Int(width), height: Int(height), colorspace: colorspace)
    }

    /// The stored size from the header.
    static func size(_ bytes: UnsafeRawBufferPointer) throws(SearchError) -> (Int, Int) {
        let handle = try Handle()
        let h = try header(handle, bytes)
        return (h.width, h.height)
    }

    /// The smallest DCT scaling factor whose scaled shorter side still reaches
    /// `minimumShortSide`, as (numerator, denominator); (1, 1) when none is smaller.
    static func scale(width: Int, height: Int, minimumShortSide: Int?) -> (num: Int, denom: Int) {
        guard let target = minimumShortSide, target > 0 else { return (1, 1) }
        var count: Int32 = 0
        guard let factors = tjGetScalingFactors(&count) else { return (1, 1) }
        var best = (num: 1, denom: 1)
        let shortSide = min(width, height)
        for i in 0..<Int(count) {
            let f = factors[i]
            let num = Int(f.num), denom = Int(f.denom)
            guard num < denom else { continue }  // only reductions
            let scaled = (shortSide * num + denom - 1) / denom  // TJSCALED
            if scaled >= target && num * best.denom < best.num * denom { best = (num, denom) }
        }
        return best
    }

    static func decode(
        _ bytes: UnsafeRawBufferPointer, info: ImageInfo, options: DecodingOptions
    ) throws(SearchError) -> RGBImage {
        let handle = try Handle()
        let h = try header(handle, bytes)
        let (num, denom) = scale(width: h.width, height: h.height, minimumShortSide: options.minimumShortSide)
        let width = (h.width * num + denom - 1) / denom
        let height = (h.height * num + denom - 1) / denom
        var flags = TJFLAG_LIMITSCANS  // refuse progressive files with absurd scan counts
        if !options.allowsRecoverableErrors { flags |= TJFLAG_STOPONWARNING }
        let cmyk = h.colorspace == Int32(TJCS_CMYK.rawValue) || h.colorspace == Int32(TJCS_YCCK.rawValue)
        let channels = cmyk ? 4 : 3
        var decoded = [UInt8](repeating: 0, count: width * height * channels)
        let status = decoded.withUnsafeMutableBufferPointer { out in
            tjDecompress2(
                handle.raw, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt(bytes.count),
                out.baseAddress, Int32(width), 0, Int32(height),
                cmyk ? Int32(TJPF_CMYK.rawValue) : Int32(TJPF_RGB.rawValue), Int32(flags))
        }
        if status != 0 {
            let fatal = tjGetErrorCode(handle.raw) == Int32(TJERR_FATAL.rawValue)
            if fatal || !options.allowsRecoverableErrors {
                throw SearchError(.corruptData, "the JPEG data is damaged: \(handle.lastError)")
            }
        }
        if cmyk { decoded = cmykToRGB(decoded) }
        return RGBImage(validatedWidth: width, height: height, pixels: decoded)
    }

    /// Adobe-style (inverted) CMYK, as libjpeg delivers it, to RGB: R = C·K/255.
    /// The same arithmetic Pillow's CMYK → RGB conversion uses.
    private static func cmykToRGB(_ cmyk: [UInt8]) -> [UInt8] {
        let n = cmyk.count / 4
        var rgb = [UInt8](repeating: 0, count: n * 3)
        for i in 0..<n {
            let k = Int(cmyk[4 * i + 3])
            for c in 0..<3 {
                let v = Int(cmyk[4 * i + c]) * k
                rgb[3 * i + c] = UInt8((v + 127) / 255)
            }
        }
        return rgb
    }
}
