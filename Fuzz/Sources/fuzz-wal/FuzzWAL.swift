import ANNIndex
import FuzzDriver
import SearchCore

/// libFuzzer entry point: the bytes are a whole write-ahead log. Replay must
/// end in records or a ``SearchError``; what it returns must lie inside the
/// bytes it was given and tile the prefix it kept; a policy that refuses
/// damage must never report dropping any.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWAL(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    guard let (records, report) = try? WriteAheadLog.replay(bytes, path: "fuzz", policy: .dropDamagedRecords) else { return 0 }
    let valid = report.bytesKept
    precondition(valid <= size && valid + report.bytesDropped == size, "the kept prefix and the dropped rest make up the log")
    let recordHeader = WriteAheadLog.recordHeaderSize(version: report.formatVersion)
    precondition(records.reduce(WriteAheadLog.headerSize) { $0 + recordHeader + $1.count } == valid, "records tile the kept prefix")
    precondition(report.recordsReplayed == records.count, "the report counts the records returned")
    if let (strictRecords, strict) = try? WriteAheadLog.replay(bytes, path: "fuzz", policy: .strict) {
        precondition(strict.bytesDropped == 0 && strictRecords == records, ".strict drops nothing")
    }
    if let (_, repaired) = try? WriteAheadLog.replay(bytes, path: "fuzz") {
        if case .droppedDamagedRecord = repaired.outcome { preconditionFailure("the default policy never drops damage") }
    }
    return 0
}

/// SwiftPM's entry point for this executable: hand over to libFuzzer.
@_cdecl("fuzz_wal_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzWAL)
}
