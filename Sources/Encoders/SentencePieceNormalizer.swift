import SearchCore

/// SentencePiece's normaliser: the precompiled character map applied by
/// longest match, then whitespace handling — leading, trailing and repeated
/// spaces dropped (`remove_extra_whitespaces`), a space added in front
/// (`add_dummy_prefix`, or at the end when whitespace is a suffix), and
/// spaces written as U+2581 `▁` (`escape_whitespaces`). User-defined symbols
/// pass through unchanged, matched longest first.
///
/// The character map (`precompiled_charsmap`, e.g. the `nmt_nfkc` rules:
/// NFKC plus a few fixes) is laid out as a little-endian `UInt32` trie size
/// in bytes, a darts-clone double-array trie of that many bytes (`UInt32`
/// units, little-endian) whose values are offsets into the rest, and the
/// rest: NUL-terminated UTF-8 replacement strings.
struct SentencePieceNormalizer: Sendable {
    var addDummyPrefix: Bool
    var removeExtraWhitespaces: Bool
    var escapeWhitespaces: Bool
    var treatWhitespaceAsSuffix: Bool
    let charsMap: PrecompiledCharsMap?
    /// User-defined symbols, copied through whole.
    var userDefined: ByteTrie

    static let space: [UInt8] = [0xE2, 0x96, 0x81]

    init(spec: SentencePieceModelProto.NormalizerSpec, treatWhitespaceAsSuffix: Bool, userDefined: ByteTrie)
        throws(SearchError)
    {
        addDummyPrefix = spec.addDummyPrefix
        removeExtraWhitespaces = spec.removeExtraWhitespaces
        escapeWhitespaces = spec.escapeWhitespaces
        self.treatWhitespaceAsSuffix = treatWhitespaceAsSuffix
        charsMap = spec.precompiledCharsMap.isEmpty ? nil : try PrecompiledCharsMap(spec.precompiledCharsMap)
        self.userDefined = userDefined
    }

    /// The replacement for the longest rule matching at the start of
    /// `input`, and how many bytes it consumed.
    func normalizePrefix(_ input: ArraySlice<UInt8>) -> (replacement: ArraySlice<UInt8>, consumed: Int) {
        if let length = userDefined.longestPrefix(input)?.length {
            return (input.prefix(length), length)
        }
        if let charsMap, let match = charsMap.longestMatch(input) {
            return (match.replacement, match.length)
        }
        // One UTF-8 character, as it is (the input is valid UTF-8).
        let length = min(utf8Length(input[input.startIndex]), input.count)
        return (input.prefix(length), length)
    }

    /// Normalises UTF-8 text.
    func normalize(_ text: [UInt8]) -> [UInt8] {
        var input = text[...]
        var output: [UInt8] = []
        if input.isEmpty { return output }
        if removeExtraWhitespaces {
            while !input.isEmpty {
                let (piece, consumed) = normalizePrefix(input)
                guard piece.elementsEqual([0x20]) else { break }
                input.removeFirst(consumed)
            }
        }
        if input.isEmpty { return output }
        output.reserveCapacity(input.count * 3)
        func addSpace() {
            if escapeWhitespaces { output += Self.space } else { output.append(0x20) }
        }
        if !treatWhitespaceAsSuffix && addDummyPrefix { addSpace() }
        var previousIsSpace = removeExtraWhitespaces
        while !input.isEmpty {
            var (piece, consumed) = normalizePrefix(input)
            while previousIsSpace, piece.first == 0x20 { piece.removeFirst() }
            if !piece.isEmpty {
                for b in piece {
                    if escapeWhitespaces && b == 0x20 { output += Self.space } else { output.append(b) }
                }
                previousIsSpace = piece.last == 0x20
            }
            input.removeFirst(consumed)
            if !removeExtraWhitespaces { previousIsSpace = false }
        }
        if removeExtraWhitespaces {
            let space: [UInt8] = escapeWhitespaces ? Self.space : [0x20]
            while output.count >= space.count, output[(output.count - space.count)...].elementsEqual(space) {
                output.removeLast(space.count)
            }
        }
        if treatWhitespaceAsSuffix && addDummyPrefix { addSpace() }
        return output
    }
}

/// The length of the UTF-8 sequence a lead byte starts, as SentencePiece
/// counts it (by the high nibble; a continuation byte counts as 1).
@inline(__always)
func utf8Length(_ lead: UInt8) -> Int {
    switch lead >> 4 {
    case 0xC, 0xD: 2
    case 0xE: 3
    case 0xF: 4
    default: 1
    }
}

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

/// A trie over byte strings with an `Int32` value per key: SentencePiece's
/// pieces and user-defined symbols. Edges live in one hash table keyed by
/// (node, byte), so a lookup costs one probe per byte.
struct ByteTrie: Sendable {
    private var edges: [UInt64: Int32] = [:]
    private var values: [Int32] = [-1]

    init() {}

    /// Adds `key` with `value`; a key added twice keeps its first value
    /// unless `replacing` is set.
    mutating func insert(_ key: some Sequence<UInt8>, value: Int32, replacing: Bool = false) {
        var node: Int32 = 0
        for byte in key {
            let edge = UInt64(UInt32(node)) << 8 | UInt64(byte)
            if let next = edges[edge] {
                node = next
            } else {
                let next = Int32(values.count)
                values.append(-1)
                edges[edge] = next
                node = next
            }
        }
        if replacing || values[Int(node)] < 0 { values[Int(node)] = value }
    }

    var isEmpty: Bool { edges.isEmpty }

    /// The node reached from `node` by `byte`, or nil.
    @inline(__always)
    func child(_ node: Int32, _ byte: UInt8) -> Int32? {
        edges[UInt64(UInt32(node)) << 8 | UInt64(byte)]
    }

    /// The value stored at `node` (-1 for none).
    @inline(__always)
    func value(_ node: Int32) -> Int32 { values[Int(node)] }

    /// The value of `key`, or nil.
    func lookup(_ key: some Sequence<UInt8>) -> Int32? {
        var node: Int32 = 0
        for byte in key {
            guard let next = child(node, byte) else { return nil }
            node = next
        }
        let v = value(node)
        return v >= 0 ? v : nil
    }

    /// The longest key prefixing `input`, its length and value.
    func longestPrefix(_ input: ArraySlice<UInt8>) -> (length: Int, value: Int32)? {
        if edges.isEmpty { return nil }
        var node: Int32 = 0
        var best: (Int, Int32)?
        var length = 0
        for byte in input {
            guard let next = child(node, byte) else { break }
            node = next
            length += 1
            let v = value(node)
            if v >= 0 { best = (length, v) }
        }
        return best
    }
}
