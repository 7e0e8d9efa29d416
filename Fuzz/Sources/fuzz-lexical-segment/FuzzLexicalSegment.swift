import FuzzDriver
import LexicalIndex
import SearchCore

/// libFuzzer entry point: the bytes are a whole keyword segment file. With
/// the checksum not verified (so mutations reach the structure), opening
/// must end in a segment or a ``SearchError``; when it opens, searching its
/// terms by words, phrase and prefix, block-max and exhaustive, must answer
/// with at most k hits — never crash, never read out of bounds.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLexicalSegment(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let hits = try? LexicalIndex.checkSegment(bytes, verifyingChecksum: false) {
        precondition(hits <= 10, "at most k hits")
    }
    return 0
}

/// SwiftPM's entry point for this executable: hand over to libFuzzer.
@_cdecl("fuzz_lexical_segment_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzLexicalSegment)
}
