import ANNIndex
import FuzzDriver
import Foundation
import SearchCore

/// Where each input is written so the graph can be opened the way a user
/// opens it: through a memory mapping. One file per process, overwritten.
private let scratchPath = FileManager.default.temporaryDirectory
    .appendingPathComponent("mms-fuzz-segment-\(getpid()).mmsseg").path

/// libFuzzer entry point: the bytes are a whole segment file. Validation must
/// end in a header and sections or a ``SearchError``; when it succeeds, every
/// section must lie inside the bytes, an LZ4 graph section must decode or fail
/// cleanly, and opening the segment as a graph, decoding every level-0 block
/// and searching it must each answer or throw — never crash, never return
/// more than `k` hits.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSegment(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    guard let (header, sections) = try? SegmentReader.validate(bytes, path: "fuzz") else { return 0 }
    for s in sections {
        precondition(s.offset % 64 == 0 && s.offset >= 64 && s.offset + s.length <= size, "a section inside the file")
        if s.kind == .graphLevel0 && !sections.contains(where: { $0.kind == .metadata }) {
            let section = UnsafeRawBufferPointer(rebasing: bytes[s.offset..<(s.offset + s.length)])
            if let lists = try? GraphCoding.decodeCompressed(section, nodeCount: min(header.count, 4_096), maxDegree: 64) {
                precondition(lists.allSatisfy { $0.count <= 64 }, "degree bound holds")
            }
        }
    }
    guard sections.contains(where: { $0.kind == .metadata }), header.dimension <= 4_096 else { return 0 }
    guard FileManager.default.createFile(atPath: scratchPath, contents: Data(bytes)) else { return 0 }
    guard let segment = try? SegmentIndex(path: scratchPath, verification: .structure) else { return 0 }
    var query = [Float](repeating: 0.5, count: header.dimension)
    query[0] = 1
    if let hits = try? segment.search(query, k: 5, ef: 16) { precondition(hits.count <= 5, "at most k hits") }
    _ = try? segment.decodeGraph()
    return 0
}

/// SwiftPM's entry point for this executable: hand over to libFuzzer.
@_cdecl("fuzz_segment_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzSegment)
}
