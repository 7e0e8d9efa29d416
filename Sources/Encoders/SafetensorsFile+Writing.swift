import SearchCore
import StoragePrimitives
import Tensor

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
        try AtomicFile.replace(path, with: [serialize(tensors, metadata: metadata)])
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
