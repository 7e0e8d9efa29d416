import SearchCore

/// Decodes JPEG and PNG files into 8-bit RGB pixels.
///
/// JPEG goes through libjpeg-turbo's TurboJPEG API (with DCT-domain
/// downscaling when ``DecodingOptions/minimumShortSide`` allows it), PNG
/// through libpng's simplified API (8- and 16-bit, palette, grey, alpha
/// composited onto ``DecodingOptions/background``). The format is recognised
/// from the bytes, never from a file name. Every failure is a ``SearchError``:
/// ``SearchError/Code/unsupportedFormat`` for bytes that are neither,
/// ``SearchError/Code/resourceLimit`` for a header past ``DecodingLimits``
/// (checked before pixel memory is allocated), ``SearchError/Code/corruptData``
/// for damaged data, with the library's own words in the message.
///
/// Stateless and thread-safe: call it from as many tasks as you like.
///
/// ```swift
/// let bytes = try Array(Data(contentsOf: url))
/// let image = try ImageDecoder.decode(bytes, options: .init(minimumShortSide: 224))
/// ```
public enum ImageDecoder {
    /// Decodes an encoded image.
    public static func decode(_ bytes: [UInt8], options: DecodingOptions = .init()) throws(SearchError) -> RGBImage {
        try withRawBuffer(bytes) { (buffer) throws(SearchError) in try decode(buffer, options: options) }
    }

    /// Decodes an encoded image from raw memory (for example a memory-mapped file).
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, options: DecodingOptions = .init()
    ) throws(SearchError) -> RGBImage {
        let info = try readInfo(bytes, limits: options.limits)
        var image: RGBImage
        switch info.format {
        case .jpeg: image = try JPEGDecoding.decode(bytes, info: info, options: options)
        case .png: image = try PNGDecoding.decode(bytes, info: info, options: options)
        }
        if options.appliesOrientation { image = image.applying(info.orientation) }
        return image
    }

    /// Reads format, size and orientation from the header, checking `limits`.
    public static func readInfo(_ bytes: [UInt8], limits: DecodingLimits = .default) throws(SearchError) -> ImageInfo {
        try withRawBuffer(bytes) { (buffer) throws(SearchError) in try readInfo(buffer, limits: limits) }
    }

    /// Reads format, size and orientation from the header, checking `limits`.
    public static func readInfo(
        _ bytes: UnsafeRawBufferPointer, limits: DecodingLimits = .default
    ) throws(SearchError) -> ImageInfo {
        guard bytes.count <= limits.maxInputBytes else {
            throw SearchError(
                .resourceLimit, "the file is \(bytes.count) bytes; the limit is \(limits.maxInputBytes) bytes")
        }
        guard let format = ImageFormat.sniff(bytes) else {
            throw SearchError(
                .unsupportedFormat,
                bytes.isEmpty ? "the file is empty" : "the bytes are neither JPEG nor PNG (no known magic number)")
        }
        let (width, height) =
            switch format {
            case .jpeg: try JPEGDecoding.size(bytes)
            case .png: try PNGDecoding.size(bytes)
            }
        guard width > 0, height > 0 else {
            throw SearchError(.corruptData, "the \(format.rawValue) header gives a size of \(width)×\(height)")
        }
        guard width <= limits.maxWidth, height <= limits.maxHeight,
            width.multipliedReportingOverflow(by: height).partialValue <= limits.maxPixels
        else {
            throw SearchError(
                .resourceLimit,
                "a \(width)×\(height) \(format.rawValue) exceeds the limits (\(limits.maxWidth)×\(limits.maxHeight), \(limits.maxPixels) pixels); raise DecodingLimits to accept it"
            )
        }
        return ImageInfo(
            format: format, width: width, height: height,
            orientation: EXIFOrientation.read(from: bytes, format: format))
    }

    private static func withRawBuffer<R>(
        _ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(SearchError) -> R
    ) throws(SearchError) -> R {
        // Array.withUnsafeBytes rethrows untyped; `body` throws only SearchError.
        do {
            return try bytes.withUnsafeBytes { try body($0) }
        } catch let error as SearchError {
            throw error
        } catch {
            throw SearchError(.invalidArgument, "unexpected error: \(error)")
        }
    }
}
