/// Bounds that keep a hostile or enormous file from exhausting memory.
///
/// They are checked against the header before any pixel memory is allocated,
/// so a 65,000 × 65,000 "decompression bomb" costs a few hundred bytes of
/// reading, not 12 GiB.
public struct DecodingLimits: Sendable, Hashable {
    /// The widest image accepted, in pixels.
    public var maxWidth: Int
    /// The tallest image accepted, in pixels.
    public var maxHeight: Int
    /// The most pixels accepted (width × height of the stored image, before
    /// any DCT downscaling).
    public var maxPixels: Int
    /// The largest encoded file accepted, in bytes.
    public var maxInputBytes: Int

    /// - Parameters: see the properties. The defaults admit any photo a camera
    ///   or phone takes (a 200-megapixel sensor is 16,320 × 12,240).
    public init(
        maxWidth: Int = 30_000, maxHeight: Int = 30_000, maxPixels: Int = 250_000_000,
        maxInputBytes: Int = 512 << 20
    ) {
        self.maxWidth = maxWidth
        self.maxHeight = maxHeight
        self.maxPixels = maxPixels
        self.maxInputBytes = maxInputBytes
    }

    /// The defaults.
    public static let `default` = DecodingLimits()
}

/// How an image is decoded.
public struct DecodingOptions: Sendable, Hashable {
    /// Safety bounds checked before pixels are allocated.
    public var limits: DecodingLimits

    /// When set, a JPEG is decoded at the smallest DCT scale (1/8, 1/4, 3/8,
    /// 1/2, ... of full size) whose shorter side is still at least this many
    /// pixels. libjpeg-turbo then skips most of the inverse DCT work: a
    /// 12-megapixel photo bound for a 224-pixel model input decodes several
    /// times faster. PNG has no such mode and ignores it. Nil decodes at full size.
    public var minimumShortSide: Int?

    /// The colour transparent pixels are composited onto (PNG alpha). White by default.
    public var background: RGBColor

    /// Whether to rotate or mirror the pixels as the file's EXIF orientation
    /// tag says (as phones store portrait photos), so the result is upright.
    public var appliesOrientation: Bool

    /// Whether a JPEG that ends early, or whose data has recoverable errors,
    /// decodes anyway (libjpeg fills the missing part with grey). Off by
    /// default: such a file is a typed error.
    public var allowsRecoverableErrors: Bool

    /// Options; every default suits decoding a photo for search.
    public init(
        limits: DecodingLimits = .default, minimumShortSide: Int? = nil, background: RGBColor = .white,
        appliesOrientation: Bool = true, allowsRecoverableErrors: Bool = false
    ) {
        self.limits = limits
        self.minimumShortSide = minimumShortSide
        self.background = background
        self.appliesOrientation = appliesOrientation
        self.allowsRecoverableErrors = allowsRecoverableErrors
    }
}

/// An 8-bit sRGB colour.
public struct RGBColor: Sendable, Hashable {
    /// Red, 0 to 255.
    public var red: UInt8
    /// Green, 0 to 255.
    public var green: UInt8
    /// Blue, 0 to 255.
    public var blue: UInt8

    /// A colour from its components.
    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// White (255, 255, 255).
    public static let white = RGBColor(red: 255, green: 255, blue: 255)
    /// Black (0, 0, 0).
    public static let black = RGBColor(red: 0, green: 0, blue: 0)
}
