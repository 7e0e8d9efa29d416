import FuzzDriver
import ImageDecoding
import SearchCore

/// libFuzzer entry point: the bytes are a whole image file, JPEG or PNG by
/// their magic. Decoding must end in pixels or a ``SearchError``; a trap, an
/// out-of-bounds access (AddressSanitizer) or a leak is a finding. The limits
/// are tight so a fuzzed header cannot ask for gigabytes legitimately.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImageDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let limits = DecodingLimits(maxWidth: 2_048, maxHeight: 2_048, maxPixels: 1 << 20)
    for options in [
        DecodingOptions(limits: limits),
        DecodingOptions(limits: limits, minimumShortSide: 16, allowsRecoverableErrors: true),
    ] {
        guard let image = try? ImageDecoder.decode(bytes, options: options) else { continue }
        precondition(image.width > 0 && image.height > 0, "a decoded image has pixels")
        precondition(image.pixels.count == image.width * image.height * 3, "RGB bytes match the size")
        precondition(image.width <= 2_048 && image.height <= 2_048, "limits hold")
    }
    return 0
}

/// SwiftPM's entry point for this executable: hand over to libFuzzer.
@_cdecl("fuzz_image_decoder_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzImageDecoder)
}
