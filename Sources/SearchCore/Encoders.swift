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
    /// (3 × height × width) floats, normalised as the model expects, of the
    /// encoder's ``ImageEncoder/inputShape`` (what
    /// ``ImageEncoder/preprocess(_:into:)`` writes). Another size is a
    /// ``SearchError/Code/dimensionMismatch``, never silently resampled.
    case preprocessed([Float], width: Int, height: Int)
}

/// Turns images into embeddings, and owns how a picture becomes the model's input.
///
/// An ingest stage can split the work: ``preprocess(_:into:)`` each picture
/// (decoding included) into its slot of one buffer of ``inputShape``-sized
/// slots, on as many threads as it likes, then ``embed(preprocessed:count:into:)``
/// the whole buffer in one forward pass. ``embed(images:into:)`` does both.
///
/// ```swift
/// let shape = encoder.inputShape
/// var batch = [Float](repeating: 0, count: pictures.count * shape.floatCount)
/// var vectors = [Float](repeating: 0, count: pictures.count * encoder.dimension)
/// try batch.withUnsafeMutableBufferPointer { slots in
///     for (i, picture) in pictures.enumerated() {
///         let slot = UnsafeMutableBufferPointer(rebasing: slots[(i * shape.floatCount)..<((i + 1) * shape.floatCount)])
///         try encoder.preprocess(picture, into: slot)
///     }
///     try vectors.withUnsafeMutableBufferPointer { out in
///         try encoder.embed(preprocessed: UnsafeBufferPointer(slots), count: pictures.count, into: out)
///     }
/// }
/// ```
///
/// Conforming encoders are `Sendable` and safe to call from concurrent tasks.
public protocol ImageEncoder: Sendable {
    /// The number of components of each embedding.
    var dimension: Int { get }

    /// The shape of one preprocessed picture: what ``preprocess(_:into:)``
    /// writes and ``embed(preprocessed:count:into:)`` reads per picture.
    var inputShape: ImageInputShape { get }

    /// Writes the model input for one picture into `output`
    /// (``inputShape``'s `floatCount` floats, channels first), exactly as
    /// ``embed(images:into:)`` would: encoded bytes are decoded and
    /// preprocessed, RGB pixels preprocessed, preprocessed pixels of
    /// ``inputShape`` copied.
    ///
    /// - Throws: ``SearchError`` for undecodable bytes, preprocessed pixels of
    ///   another shape (``SearchError/Code/dimensionMismatch``) or an `output`
    ///   of the wrong size; `output` is unspecified after a throw.
    func preprocess(_ image: ImageInput, into output: UnsafeMutableBufferPointer<Float>) throws(SearchError)

    /// Embeds `count` preprocessed pictures laid end to end in `batch`
    /// (`count × inputShape.floatCount` floats) in one forward pass, writing
    /// `count * dimension` floats into `output`.
    ///
    /// - Throws: ``SearchError/Code/dimensionMismatch`` when `batch` or
    ///   `output` has the wrong size; `output` is unspecified after a throw.
    func embed(preprocessed batch: UnsafeBufferPointer<Float>, count: Int, into output: UnsafeMutableBufferPointer<Float>)
        throws(SearchError)

    /// Embeds `images`, writing `images.count * dimension` floats into `output`,
    /// one embedding after another.
    ///
    /// - Throws: ``SearchError`` for undecodable or wrongly shaped input (the
    ///   message names the image's position in `images`), or an `output` of
    ///   the wrong size; `output` is unspecified after a throw.
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
    /// - Throws: ``SearchError`` for input the encoder cannot take or an
    ///   `output` of the wrong size; `output` is unspecified after a throw.
    func embed(texts: [String], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError)
}

extension ImageEncoder {
    /// Embeds one image.
    public func embed(_ image: ImageInput) throws(SearchError) -> Embedding {
        var values = [Float](repeating: 0, count: dimension)
        try values.withUnsafeMutableBufferPointer { (buffer) throws(SearchError) in try embed(images: [image], into: buffer) }
        return Embedding(values)
    }
}

extension TextEncoder {
    /// Embeds one text.
    public func embed(_ text: String) throws(SearchError) -> Embedding {
        var values = [Float](repeating: 0, count: dimension)
        try values.withUnsafeMutableBufferPointer { (buffer) throws(SearchError) in try embed(texts: [text], into: buffer) }
        return Embedding(values)
    }

    /// Embeds texts into a new flat array of `texts.count * dimension` floats.
    public func embed(texts: [String]) throws(SearchError) -> [Float] {
        var values = [Float](repeating: 0, count: texts.count * dimension)
        try values.withUnsafeMutableBufferPointer { (buffer) throws(SearchError) in try embed(texts: texts, into: buffer) }
        return values
    }
}
