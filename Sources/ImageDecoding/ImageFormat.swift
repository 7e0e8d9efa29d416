/// An encoded image format this module decodes.
public enum ImageFormat: String, Sendable, CaseIterable {
    case jpeg
    case png

    /// The format announced by the first bytes (the file's magic number), or nil.
    ///
    /// JPEG starts `FF D8 FF`; PNG starts `89 50 4E 47 0D 0A 1A 0A`. The file
    /// name is never consulted: a text file named `.png` is not a PNG.
    public static func sniff(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return .jpeg }
        let pngMagic: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        if bytes.count >= 8, zip(bytes.prefix(8), pngMagic).allSatisfy({ $0 == $1 }) { return .png }
        return nil
    }
}
