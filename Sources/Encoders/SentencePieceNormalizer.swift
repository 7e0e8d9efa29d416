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
