import Encoders
import FuzzDriver
import SearchCore

/// libFuzzer entry point: the bytes are a whole safetensors file. Parsing
/// must end in a header or a ``SearchError``; a trap, an out-of-bounds read
/// (AddressSanitizer) or a leak is a finding. An accepted header is checked
/// for the invariants the parser promises.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensorsHeader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    guard let header = try? SafetensorsHeader(parsing: bytes) else { return 0 }
    var end = 0
    for tensor in header.tensors {
        precondition(tensor.byteRange.lowerBound == end, "tensors must tile the data section")
        precondition(tensor.byteRange.count == tensor.elementCount * tensor.dtype.byteCount, "dtype × shape = bytes")
        end = tensor.byteRange.upperBound
        precondition(header[tensor.name] == tensor, "lookup by name")
    }
    precondition(header.dataOffset + end == size, "the tensors end at the end of the file")
    return 0
}

/// SwiftPM's entry point for this executable: hand over to libFuzzer.
@_cdecl("fuzz_safetensors_header_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzSafetensorsHeader)
}
