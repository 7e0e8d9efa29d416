import CLZ4
import SearchCore

/// Bytes as a sequence of independently decodable LZ4 blocks.
///
/// Format (little-endian): `block count` u32, then per block `raw length`
/// u32, `stored length` u32 and the stored bytes. A block whose stored length
/// equals its raw length is kept uncompressed (LZ4 did not help); otherwise it
/// is one LZ4 block (`LZ4_compress_default`). Raw blocks are at most
/// ``maximumBlockSize`` bytes, so a decoder needs a bounded buffer, and a
/// hostile length cannot make it allocate more.
public enum LZ4Blocks {
    /// The largest raw block: 1 MiB.
    public static let maximumBlockSize = 1 << 20

    /// Compresses `bytes` in blocks of `blockSize` (≤ ``maximumBlockSize``).
    public static func encode(_ bytes: [UInt8], blockSize: Int = 64 << 10) -> [UInt8] {
        let size = max(1, min(blockSize, maximumBlockSize))
        var out: [UInt8] = []
        let blocks = (bytes.count + size - 1) / size
        LittleEndian.append(UInt32(blocks), to: &out)
        var scratch = [UInt8](repeating: 0, count: Int(LZ4_compressBound(Int32(size))))
        bytes.withUnsafeBufferPointer { src in
            for b in 0..<blocks {
                let start = b * size, length = min(size, bytes.count - start)
                let stored = scratch.withUnsafeMutableBufferPointer { dst in
                    src.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) { s in
                        dst.baseAddress!.withMemoryRebound(to: CChar.self, capacity: dst.count) { d in
                            Int(LZ4_compress_default(s + start, d, Int32(length), Int32(dst.count)))
                        }
                    }
                }
                LittleEndian.append(UInt32(length), to: &out)
                if stored > 0 && stored < length {
                    LittleEndian.append(UInt32(stored), to: &out)
                    out.append(contentsOf: scratch[0..<stored])
                } else {
                    LittleEndian.append(UInt32(length), to: &out)
                    out.append(contentsOf: src[start..<(start + length)])
                }
            }
        }
        return out
    }

    /// Decodes blocks back to the original bytes.
    ///
    /// - Parameter limit: the most bytes the result may have (a guard against
    ///   a hostile block count).
    /// - Throws: ``SearchError/Code/corruptData`` naming the block and offset
    ///   when anything does not add up.
    public static func decode(_ b: UnsafeRawBufferPointer, limit: Int = 1 << 34) throws(SearchError) -> [UInt8] {
        guard b.count >= 4 else { throw SearchError(.corruptData, "LZ4 blocks: \(b.count) bytes is shorter than the block count") }
        let blocks = Int(LittleEndian.read(UInt32.self, b, at: 0))
        var out: [UInt8] = []
        var offset = 4
        for block in 0..<blocks {
            guard offset + 8 <= b.count else {
                throw SearchError(.corruptData, "LZ4 block \(block) at offset \(offset): the data ends inside its header")
            }
            let raw = Int(LittleEndian.read(UInt32.self, b, at: offset))
            let stored = Int(LittleEndian.read(UInt32.self, b, at: offset + 4))
            offset += 8
            guard raw <= maximumBlockSize, stored <= raw, offset + stored <= b.count, out.count + raw <= limit else {
                throw SearchError(
                    .corruptData, "LZ4 block \(block) at offset \(offset - 8): raw \(raw), stored \(stored) bytes do not fit")
            }
            let start = out.count
            out.append(contentsOf: repeatElement(0, count: raw))
            if stored == raw {
                out.withUnsafeMutableBytes { dst in
                    (dst.baseAddress! + start).copyMemory(from: b.baseAddress! + offset, byteCount: raw)
                }
            } else {
                let produced = out.withUnsafeMutableBytes { dst in
                    LZ4_decompress_safe(
                        (b.baseAddress! + offset).assumingMemoryBound(to: CChar.self),
                        (dst.baseAddress! + start).assumingMemoryBound(to: CChar.self), Int32(stored), Int32(raw))
                }
                guard produced == Int32(raw) else {
                    throw SearchError(
                        .corruptData, "LZ4 block \(block) at offset \(offset - 8) does not decode to its \(raw) bytes")
                }
            }
            offset += stored
        }
        guard offset == b.count else {
            throw SearchError(.corruptData, "LZ4 blocks: \(b.count - offset) bytes follow the last block")
        }
        return out
    }
}
