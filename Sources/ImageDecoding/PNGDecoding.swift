import CPNG
import SearchCore

/// PNG through libpng's simplified API, always read as 8-bit RGBA and then
/// composited onto the background (opaque images come out unchanged).
enum PNGDecoding {
    /// A png_image at a fixed heap address, always released.
    ///
    /// libpng keeps the png_image's address (its error handler writes the
    /// message there), so the struct must not move between calls: it lives
    /// behind a pointer this owner allocates and frees.
    private struct Image: ~Copyable {
        let raw: UnsafeMutablePointer<png_image>

        init(_ bytes: UnsafeRawBufferPointer) throws(SearchError) {
            raw = .allocate(capacity: 1)
            raw.initialize(to: png_image())
            raw.pointee.version = png_uint_32(mms_png_image_version)
            let ok = png_image_begin_read_from_memory(raw, bytes.baseAddress, bytes.count)
            guard ok != 0 else {
                // Every stored property is set, so throwing runs deinit, which frees.
                let message = Self.message(raw)
                throw SearchError(.corruptData, "not a readable PNG header: \(message)")
            }
        }

        deinit {
            png_image_free(raw)
            raw.deallocate()
        }

        var width: Int { Int(raw.pointee.width) }
        var height: Int { Int(raw.pointee.height) }

        static func message(_ image: UnsafeMutablePointer<png_image>) -> String {
            withUnsafeBytes(of: image.pointee.message) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
    }

    /// The stored size from the IHDR chunk.
    static func size(_ bytes: UnsafeRawBufferPointer) throws(SearchError) -> (Int, Int) {
        let image = try Image(bytes)
        return (image.width, image.height)
    }

    static func decode(
        _ bytes: UnsafeRawBufferPointer, info: ImageInfo, options: DecodingOptions
    ) throws(SearchError) -> RGBImage {
        let image = try Image(bytes)
        image.raw.pointee.format = png_uint_32(mms_png_format_rgba)
        // 16-bit files without gamma information are sRGB-encoded, as image
        // editors write them (libpng would otherwise assume linear light).
        image.raw.pointee.flags |= png_uint_32(mms_png_image_flag_16bit_srgb)
        let width = image.width, height = image.height
        // Limits were checked on the same header by readInfo.
        var rgba = [UInt8](repeating: 0, count: width * height * 4)
        let ok = rgba.withUnsafeMutableBytes { out in
            png_image_finish_read(image.raw, nil, out.baseAddress, Int32(width * 4), nil)
        }
        if ok == 0 {
            throw SearchError(.corruptData, "the PNG data is damaged: \(Image.message(image.raw))")
        }
        let bg = (Int(options.background.red), Int(options.background.green), Int(options.background.blue))
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        rgba.withUnsafeBufferPointer { src in
            rgb.withUnsafeMutableBufferPointer { dst in
                for i in 0..<(width * height) {
                    let a = Int(src[4 * i + 3])
                    if a == 255 {
                        dst[3 * i] = src[4 * i]
                        dst[3 * i + 1] = src[4 * i + 1]
                        dst[3 * i + 2] = src[4 * i + 2]
                    } else {
                        // Straight alpha over the background, in sRGB, rounded.
                        let inverse = 255 - a
                        dst[3 * i] = UInt8((Int(src[4 * i]) * a + bg.0 * inverse + 127) / 255)
                        dst[3 * i + 1] = UInt8((Int(src[4 * i + 1]) * a + bg.1 * inverse + 127) / 255)
                        dst[3 * i + 2] = UInt8((Int(src[4 * i + 2]) * a + bg.2 * inverse + 127) / 255)
                    }
                }
            }
        }
        return RGBImage(validatedWidth: width, height: height, pixels: rgb)
    }
}
