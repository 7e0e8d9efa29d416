import SearchCore

/// A precompiled character map: a darts-clone double-array trie over UTF-8
/// byte strings, each leaf's value an offset into a block of NUL-terminated
/// replacement strings.
struct PrecompiledCharsMap: Sendable {
    let units: [UInt32]
    let strings: [UInt8]

    /// Parses the blob; checks the trie size and that it is whole units.
    init(_ blob: [UInt8]) throws(SearchError) {
        guard blob.count > 4 else {
            throw SearchError(.corruptData, "SentencePiece model: the precompiled character map is \(blob.count) bytes")
        }
        let trieSize = Int(UInt32(blob[0]) | UInt32(blob[1]) << 8 | UInt32(blob[2]) << 16 | UInt32(blob[3]) << 24)
        guard trieSize < blob.count - 4 + 1, trieSize % 4 == 0, trieSize >= 4 else {
            throw SearchError(
                .corruptData,
                "SentencePiece model: the character map's trie claims \(trieSize) bytes of \(blob.count - 4)")
        }
        var units = [UInt32](repeating: 0, count: trieSize / 4)
        for i in 0..<units.count {
            let o = 4 + 4 * i
            units[i] = UInt32(blob[o]) | UInt32(blob[o + 1]) << 8 | UInt32(blob[o + 2]) << 16 | UInt32(blob[o + 3]) << 24
        }
        self.units = units
        strings = Array(blob[(4 + trieSize)...])
    }

    /// Decodes base64 (standard alphabet, padding optional), as `tokenizer.json` stores the map.
    static func base64(_ text: String) throws(SearchError) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count * 3 / 4)
        var buffer: UInt32 = 0, bits = 0
        for c in text.utf8 {
            let v: UInt32
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = UInt32(c - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt32(c - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "/"): v = 63
            case UInt8(ascii: "="), 0x0A, 0x0D: continue
            default: throw SearchError(.corruptData, "the precompiled character map is not base64 (byte \(c))")
            }
            buffer = buffer << 6 | v
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        return output
    }

    /// The longest key that prefixes `input` and its replacement; nil when
    /// none does or the trie points outside itself (a damaged map matches nothing).
    func longestMatch(_ input: ArraySlice<UInt8>) -> (length: Int, replacement: ArraySlice<UInt8>)? {
        match(input, shortest: false)
    }

    /// The shortest key that prefixes `input` and its replacement (what the
    /// `tokenizers` library's `Precompiled` normaliser takes).
    func shortestMatch(_ input: ArraySlice<UInt8>) -> (length: Int, replacement: ArraySlice<UInt8>)? {
        match(input, shortest: true)
    }

    private func match(_ input: ArraySlice<UInt8>, shortest: Bool) -> (length: Int, replacement: ArraySlice<UInt8>)? {
        // darts-clone unit layout: bit 8 has-leaf, bits 0–7 label (bit 31 set
        // on leaves), value in bits 0–30, offset (unit >> 10) << (bit 9 ? 8 : 0).
        func offset(_ unit: UInt32) -> Int { Int(unit >> 10) << Int((unit & (1 << 9)) >> 6) }
        guard !units.isEmpty else { return nil }
        var position = offset(units[0])
        var best: (length: Int, value: Int)?
        var length = 0
        for byte in input {
            if byte == 0 { break }
            position ^= Int(byte)
            guard position < units.count else { break }
            let unit = units[position]
            guard unit & (1 << 31 | 0xFF) == UInt32(byte) else { break }
            position ^= offset(unit)
            length += 1
            if (unit >> 8) & 1 == 1 {
                guard position < units.count else { break }
                best = (length, Int(units[position] & 0x7FFF_FFFF))
                if shortest { break }
            }
        }
        guard let best, best.value < strings.count else { return nil }
        var end = best.value
        while end < strings.count && strings[end] != 0 { end += 1 }
        return (best.length, strings[best.value..<end])
    }
}
