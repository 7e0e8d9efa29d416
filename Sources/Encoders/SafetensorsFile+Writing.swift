import SearchCore
import Tensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension SafetensorsFile {
    /// The bytes of a safetensors file holding `tensors` as F32, in name order:
    /// the little-endian header length, the header padded with spaces to a
    /// multiple of 8 bytes (so the data section stays aligned), the data.
    public static func serialize(_ tensors: [String: Tensor<Float>], metadata: [String: String] = [:]) -> [UInt8] {
        let names = tensors.keys.sorted()
        var header = "{"
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            entries.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for name in names {
            let t = tensors[name]!
            let bytes = t.count * 4
            entries.append(
                "\(jsonString(name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        header += entries.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + headerBytes.count + offset)
        let length = UInt64(headerBytes.count)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: length >> (8 * UInt64(i)))) }  // little-endian u64
        out += headerBytes
        for name in names {
            tensors[name]!.withUnsafeBufferPointer { out.append(contentsOf: UnsafeRawBufferPointer($0)) }
        }
        return out
    }

    /// Writes `tensors` as an F32 safetensors file at `path` (replacing it).
    ///
    /// - Throws: ``SearchCore/SearchError/Code/io`` when the file cannot be written.
    public static func write(_ tensors: [String: Tensor<Float>], metadata: [String: String] = [:], to path: String)
        throws(SearchError)
    {
        try writeFile(serialize(tensors, metadata: metadata), to: path)
    }

    private static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where u.value < 0x20: out += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

/// Writes `bytes` to `path`, replacing it, retrying interrupted writes.
func writeFile(_ bytes: [UInt8], to path: String) throws(SearchError) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw SearchError(.io, "cannot create \(path): \(String(cString: strerror(errno)))") }
    defer { _ = close(fd) }
    var written = 0
    let failure: Int32? = bytes.withUnsafeBytes { raw in
        while written < raw.count {
            let n = write(fd, raw.baseAddress! + written, raw.count - written)
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            written += n
        }
        return nil
    }
    if let failure { throw SearchError(.io, "cannot write \(path): \(String(cString: strerror(failure)))") }
}
