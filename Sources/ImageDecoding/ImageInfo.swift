/// What a file's header says, read without decoding pixels.
public struct ImageInfo: Sendable, Hashable {
    /// The encoded format.
    public var format: ImageFormat
    /// The stored width in pixels (before orientation is applied).
    public var width: Int
    /// The stored height in pixels (before orientation is applied).
    public var height: Int
    /// The EXIF orientation (1 when absent).
    public var orientation: EXIFOrientation

    /// The size after orientation is applied: width and height swap for the
    /// four orientations that rotate by 90°.
    public var uprightSize: (width: Int, height: Int) {
        orientation.swapsAxes ? (height, width) : (width, height)
    }
}
