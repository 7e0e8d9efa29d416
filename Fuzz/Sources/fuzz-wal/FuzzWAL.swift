import ANNIndex
import FuzzDriver
import SearchCore

/// libFuzzer entry point: the bytes are a whole write-ahead log. Replay must
/// end in records or a ``SearchError``; what it returns must lie inside the
/// bytes it was given.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWAL(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    guard let (records, valid) = try? WriteAheadLog.replay(bytes, path: "fuzz") else { return 0 }
    precondition(valid <= size, "the valid prefix lies inside the log")
    precondition(records.reduce(16) { $0 + 8 + $1.count } == valid, "records tile the valid prefix")
    return 0
}

/// SwiftPM's entry point for this executable: hand over to libFuzzer.
@_cdecl("fuzz_wal_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzWAL)
}
