import CLZ4
import SearchCore
import StoragePrimitives

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
        return encode(blocks: stride(from: 0, to: bytes.count, by: size).map { bytes[$0..<min($0 + size, bytes.count)] })
    }

    /// Compresses each of `blocks` (each at most ``maximumBlockSize`` bytes)
    /// as one block, so a reader can decode any one of them alone.
    public static func encode<Chunk: Collection<UInt8>>(blocks: [Chunk]) -> [UInt8] { encodeIndexed(blocks: blocks).bytes }

    /// ``encode(blocks:)``, also saying where each block's stored bytes lie.
    static func encodeIndexed<Chunk: Collection<UInt8>>(blocks: [Chunk]) -> (bytes: [UInt8], blocks: [Block]) {
        var out: [UInt8] = []
        var index: [Block] = []
        index.reserveCapacity(blocks.count)
        LittleEndian.append(UInt32(blocks.count), to: &out)
        var scratch = [UInt8](repeating: 0, count: Int(LZ4_compressBound(Int32(maximumBlockSize))))
        for chunk in blocks {
            precondition(chunk.count <= maximumBlockSize, "an LZ4 block of \(chunk.count) bytes exceeds \(maximumBlockSize)")
            let source = Array(chunk)
            let stored = source.withUnsafeBytes { src in
                scratch.withUnsafeMutableBytes { dst in
                    Int(
                        LZ4_compress_default(
                            src.baseAddress?.assumingMemoryBound(to: CChar.self),
                            dst.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(source.count), Int32(dst.count)))
                }
            }
            let compressed = stored > 0 && stored < source.count
            LittleEndian.append(UInt32(source.count), to: &out)
            LittleEndian.append(UInt32(compressed ? stored : source.count), to: &out)
            index.append(Block(offset: out.count, stored: compressed ? stored : source.count, raw: source.count))
            if compressed {
                out.append(contentsOf: scratch[0..<stored])
            } else {
                out.append(contentsOf: source)
            }
        }
        return (out, index)
    }

    /// Where one block lies in an encoded stream.
    public struct Block: Sendable, Hashable {
        /// Offset of the stored bytes (after the block's 8-byte header).
        public var offset: Int
        /// Bytes stored.
        public var stored: Int
        /// Bytes once decoded.
        public var raw: Int
    }

    /// Walks the block headers (not the data) and returns where every block
    /// lies, checking that they fit the buffer exactly.
    public static func blocks(_ b: UnsafeRawBufferPointer) throws(SearchError) -> [Block] {
        guard b.count >= 4 else { throw SearchError(.corruptData, "LZ4 blocks: \(b.count) bytes is shorter than the block count") }
        let count = Int(LittleEndian.read(UInt32.self, b, at: 0))
        // Each block needs at least its 8-byte header: a hostile count cannot make this allocate much.
        guard count <= (b.count - 4) / 8 else {
            throw SearchError(.corruptData, "LZ4 blocks: \(count) blocks cannot fit in \(b.count) bytes")
        }
        var result: [Block] = []
        result.reserveCapacity(count)
        var offset = 4
        for block in 0..<count {
            guard offset + 8 <= b.count else {
                throw SearchError(.corruptData, "LZ4 block \(block) at offset \(offset): the data ends inside its header")
            }
            let raw = Int(LittleEndian.read(UInt32.self, b, at: offset))
            let stored = Int(LittleEndian.read(UInt32.self, b, at: offset + 4))
            guard raw <= maximumBlockSize, stored <= raw, offset + 8 + stored <= b.count else {
                throw SearchError(.corruptData, "LZ4 block \(block) at offset \(offset): raw \(raw), stored \(stored) bytes do not fit")
            }
            result.append(Block(offset: offset + 8, stored: stored, raw: raw))
            offset += 8 + stored
        }
        guard offset == b.count else {
            throw SearchError(.corruptData, "LZ4 blocks: \(b.count - offset) bytes follow the last block")
        }
        return result
    }

    /// Decodes one block into `out`, which has room for `block.raw` bytes.
    public static func decode(
        _ block: Block, of b: UnsafeRawBufferPointer, into out: UnsafeMutableRawPointer
    ) throws(SearchError) {
        guard block.raw <= maximumBlockSize, block.stored <= block.raw, block.offset >= 0, block.offset + block.stored <= b.count else {
            throw SearchError(.corruptData, "LZ4 block at offset \(block.offset) lies outside its \(b.count) bytes")
        }
        if block.stored == block.raw {
            out.copyMemory(from: b.baseAddress! + block.offset, byteCount: block.raw)
            return
        }
        let produced = LZ4_decompress_safe(
            (b.baseAddress! + block.offset).assumingMemoryBound(to: CChar.self), out.assumingMemoryBound(to: CChar.self),
            Int32(block.stored), Int32(block.raw))
        guard produced == Int32(block.raw) else {
            throw SearchError(.corruptData, "LZ4 block at offset \(block.offset - 8) does not decode to its \(block.raw) bytes")
        }
    }

    /// Decodes blocks back to the original bytes.
    ///
    /// - Parameter limit: the most bytes the result may have (a guard against
    ///   a hostile block count).
    /// - Throws: ``SearchError/Code/corruptData`` naming the block and offset
    ///   when anything does not add up.
    public static func decode(_ b: UnsafeRawBufferPointer, limit: Int = 1 << 34) throws(SearchError) -> [UInt8] {
        let blocks = try blocks(b)
        let total = blocks.reduce(0) { $0 + $1.raw }
        guard total <= limit else {
            throw SearchError(.corruptData, "LZ4 blocks decode to \(total) bytes, more than the \(limit) expected")
        }
        var out = [UInt8](repeating: 0, count: total)
        var start = 0
        var failure: SearchError?
        out.withUnsafeMutableBytes { dst in
            for block in blocks where block.raw > 0 {
                do throws(SearchError) {
                    try decode(block, of: b, into: dst.baseAddress! + start)
                } catch {
                    failure = error
                    return
                }
                start += block.raw
            }
        }
        if let failure { throw failure }
        return out
    }
}
