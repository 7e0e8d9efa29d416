/// GPT-2's byte-to-character table, which CLIP's BPE works over: every byte
/// gets a printable character, so merges never see raw control bytes or
/// spaces.
///
/// The printable bytes `!`…`~`, `¡`…`¬` and `®`…`ÿ` stand for themselves;
/// the other 68 bytes, in increasing order, become U+0100, U+0101, … .
/// The order of ``characters`` (printable bytes first, then the rest) is
/// the order of the first 256 vocabulary entries.
enum ByteLevel {
    /// (byte, character) in vocabulary order.
    static let table: [(byte: UInt8, character: Unicode.Scalar)] = {
        var printable: [UInt8] = []
        printable += Array(UInt8(ascii: "!")...UInt8(ascii: "~"))
        printable += Array(UInt8(0xA1)...UInt8(0xAC))
        printable += Array(UInt8(0xAE)...UInt8(0xFF))
        var table = printable.map { (byte: $0, character: Unicode.Scalar($0)) }
        var next: UInt32 = 256
        for b in 0...255 where !printable.contains(UInt8(b)) {
            table.append((UInt8(b), Unicode.Scalar(next)!))
            next += 1
        }
        return table
    }()

    /// The character standing for each byte, indexed by byte.
    static let characterForByte: [Unicode.Scalar] = {
        var map = [Unicode.Scalar](repeating: " ", count: 256)
        for (b, c) in table { map[Int(b)] = c }
        return map
    }()
}
