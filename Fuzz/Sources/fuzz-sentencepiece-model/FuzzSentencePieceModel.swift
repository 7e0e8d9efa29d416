import Encoders
import FuzzDriver
import SearchCore

/// libFuzzer entry point: the bytes are a whole SentencePiece `.model` file.
/// Loading must end in a tokenizer or a ``SearchError``; an accepted model
/// then tokenises and detokenises a fixed multilingual text (which walks the
/// character map's trie and the pieces), and every id it returns must be in
/// range. A trap, an out-of-bounds read (AddressSanitizer) or a leak is a
/// finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSentencePieceModel(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let tokenizer = try? SentencePieceTokenizer(modelData: bytes) else { return 0 }
    for text in ["Café naïve  résumé\tＡＢＣ ①", "東京タワー 中文 한국어 😀👨‍👩‍👧", "<mask> <s> ▁▁ x"] {
        let ids = tokenizer.encode(text)
        precondition(ids.allSatisfy { $0 >= 0 && Int($0) < tokenizer.vocabularySize }, "ids are in range")
        precondition(tokenizer.pieces(text).count == ids.count, "one piece per id")
        _ = tokenizer.decode(ids)
    }
    return 0
}

/// SwiftPM's entry point for this executable: hand over to libFuzzer.
@_cdecl("fuzz_sentencepiece_model_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzSentencePieceModel)
}
