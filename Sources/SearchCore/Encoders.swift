/// Pixels in memory: 8-bit RGB, interleaved, rows top to bottom.
public struct RGBImage: Sendable, Hashable {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// `width * height * 3` bytes: R, G, B for each pixel, row by row.
    public var pixels: [UInt8]

    /// Wraps pixels; throws when `pixels.count != width * height * 3`.
    public init(width: Int, height: Int, pixels: [UInt8]) throws(SearchError) {
        guard width > 0, height > 0, width.multipliedReportingOverflow(by: height).overflow == false,
            pixels.count == width * height * 3
        else {
            throw SearchError(
                .invalidArgument,
                "an RGB image of \(width)×\(height) needs \(width)×\(height)×3 bytes, got \(pixels.count)")
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Wraps pixels the caller (a decoder in this package) has just sized as
    /// `width * height * 3`; checked only in debug builds.
    package init(validatedWidth width: Int, height: Int, pixels: [UInt8]) {
        assert(width > 0 && height > 0 && pixels.count == width * height * 3)
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}

/// What an image encoder accepts.
public enum ImageInput: Sendable, Hashable {
    /// An encoded file's bytes (JPEG or PNG); the encoder decodes and preprocesses.
    case encoded([UInt8])
    /// Decoded pixels; the encoder resizes, crops and normalises them.
    case rgb(RGBImage)
    /// A tensor already preprocessed for the model: channels-first
    /// (3 × height × width) floats, normalised as the model expects.
    case preprocessed([Float], width: Int, height: Int)
}

/// The shape of the tensor an image encoder takes: channels first.
public struct ImageInputShape: Sendable, Hashable {
    /// Colour channels (3).
    public var channels: Int
    /// Rows.
    public var height: Int
    /// Columns.
    public var width: Int

    /// A `channels × height × width` input.
    public init(channels: Int, height: Int, width: Int) {
        self.channels = channels
        self.height = height
        self.width = width
    }

    /// Floats in one input: `channels × height × width`.
    public var floatCount: Int { channels * height * width }
}

/// Turns images into embeddings.
///
/// The encoder owns its preprocessing: ``preprocess(_:into:)`` turns a file's
/// bytes or decoded pixels into the model's input exactly as
/// ``embed(images:into:)`` would, so an ingest stage can decode and
/// preprocess on several cores, skip a broken picture alone, and embed the
/// rest in one forward pass with ``embed(preprocessed:count:into:)``.
///
/// Conforming encoders are `Sendable` and safe to call from concurrent tasks.
public protocol ImageEncoder: Sendable {
    /// The number of components of each embedding.
    var dimension: Int { get }

    /// The input the model takes; ``ImageInput/preprocessed(_:width:height:)``
    /// input of any other shape is refused.
    var inputShape: ImageInputShape { get }

    /// Writes the model input for one image into `output`
    /// (``inputShape``'s `floatCount` floats).
    ///
    /// - Throws: ``SearchError`` for bytes that cannot be decoded, pixels
    ///   past the encoder's limits, preprocessed input of another shape, or
    ///   an `output` of the wrong size.
    func preprocess(_ image: ImageInput, into output: UnsafeMutableBufferPointer<Float>) throws(SearchError)

    /// Embeds `count` preprocessed inputs laid end to end in `batch` in one
    /// forward pass, writing `count * dimension` floats into `output`.
    func embed(preprocessed batch: UnsafeBufferPointer<Float>, count: Int, into output: UnsafeMutableBufferPointer<Float>)
        throws(SearchError)

    /// Embeds `images`, writing `images.count * dimension` floats into `output`,
    /// one embedding after another.
    ///
    /// - Throws: ``SearchError`` for undecodable or wrongly shaped input, or an
    ///   `output` of the wrong size; `output` is unspecified after a throw.
    func embed(images: [ImageInput], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError)
}

/// Turns text into embeddings.
///
/// Conforming encoders are `Sendable` and safe to call from concurrent tasks.
public protocol TextEncoder: Sendable {
    /// The number of components of each embedding.
    var dimension: Int { get }

    /// Embeds `texts`, writing `texts.count * dimension` floats into `output`,
    /// one embedding after another.
    ///
    /// - Throws: ``SearchError`` for text the tokenizer or model refuses, or
    ///   an `output` of the wrong size; `output` is unspecified after a throw.
    func embed(texts: [String], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError)
}

extension ImageEncoder {
    /// Embeds one image.
    public func embed(_ image: ImageInput) throws(SearchError) -> Embedding {
        var values = [Float](repeating: 0, count: dimension)
        try values.withUnsafeMutableBufferPointer { (out) throws(SearchError) in try embed(images: [image], into: out) }
        return Embedding(values)
    }
}

extension TextEncoder {
    /// Embeds one text.
    public func embed(_ text: String) throws(SearchError) -> Embedding {
        var values = [Float](repeating: 0, count: dimension)
        try values.withUnsafeMutableBufferPointer { (out) throws(SearchError) in try embed(texts: [text], into: out) }
        return Embedding(values)
    }

    /// Embeds texts into a new flat array of `texts.count * dimension` floats.
    public func embed(texts: [String]) throws(SearchError) -> [Float] {
        var values = [Float](repeating: 0, count: texts.count * dimension)
        try values.withUnsafeMutableBufferPointer { (out) throws(SearchError) in try embed(texts: texts, into: out) }
        return values
    }
}
