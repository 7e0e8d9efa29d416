import ANNIndex
import FuzzDriver
import SearchCore

/// libFuzzer entry point: the bytes are a whole segment file. Validation must
/// end in a header and sections or a ``SearchError``; when it succeeds, every
/// section must lie inside the bytes, and an LZ4 graph section must decode or
/// fail cleanly.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSegment(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    guard let (header, sections) = try? SegmentReader.validate(bytes, path: "fuzz") else { return 0 }
    for s in sections {
        precondition(s.offset % 64 == 0 && s.offset >= 64 && s.offset + s.length <= size, "a section inside the file")
        if s.kind == .graphLevel0 {
            let section = UnsafeRawBufferPointer(rebasing: bytes[s.offset..<(s.offset + s.length)])
            if let lists = try? GraphCoding.decodeCompressed(section, nodeCount: min(header.count, 4_096), maxDegree: 64) {
                precondition(lists.allSatisfy { $0.count <= 64 }, "degree bound holds")
            }
        }
    }
    return 0
}

/// SwiftPM's entry point for this executable: hand over to libFuzzer.
@_cdecl("fuzz_segment_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzSegment)
}
