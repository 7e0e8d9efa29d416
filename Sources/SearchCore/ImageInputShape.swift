/// The tensor one picture becomes for an image encoder: channels first,
/// `channels × height × width` floats, normalised as the model expects.
///
/// An ingest stage sizes its buffers from it: one slot of ``floatCount``
/// floats per picture, filled by ``ImageEncoder/preprocess(_:into:)`` and
/// read by ``ImageEncoder/embed(preprocessed:count:into:)``.
///
/// ```swift
/// let shape = encoder.inputShape                  // 3 × 224 × 224 for ViT-B/32
/// var batch = [Float](repeating: 0, count: pictures.count * shape.floatCount)
/// ```
public struct ImageInputShape: Sendable, Hashable, CustomStringConvertible {
    /// Colour channels (3 for RGB).
    public var channels: Int
    /// Rows of each channel plane.
    public var height: Int
    /// Columns of each channel plane.
    public var width: Int

    /// A channels-first shape (sizes are not checked here: an encoder checks
    /// its own shape before it uses it, and throws for one it cannot run).
    public init(channels: Int = 3, height: Int, width: Int) {
        self.channels = channels
        self.height = height
        self.width = width
    }

    /// The number of floats one picture takes: `channels × height × width`.
    public var floatCount: Int { channels * height * width }

    /// `channels×height×width`, e.g. `3×224×224`.
    public var description: String { "\(channels)×\(height)×\(width)" }
}
