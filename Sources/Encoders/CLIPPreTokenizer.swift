import Foundation

/// CLIP's text clean-up and pre-split, before byte-level BPE.
///
/// Clean-up, as Hugging Face's `CLIPTokenizerFast` and open_clip's
/// `SimpleTokenizer` (without ftfy's repairs, which leave well-formed text
/// alone): Unicode NFC; runs of whitespace become one space, leading and
/// trailing whitespace is dropped; every scalar is lower-cased.
///
/// Pre-split: the regular expression
/// `<|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`
/// applied left to right, the first alternative that matches at a position
/// winning — written out as a scanner. Whitespace between pieces is dropped.
enum CLIPPreTokenizer {
    enum Piece {
        case text(String.UnicodeScalarView.SubSequence)
        case special(String)
    }

    static let specials = ["<|startoftext|>", "<|endoftext|>"]
    static let contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"]

    /// The cleaned, lower-cased text.
    static func clean(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for s in text.precomposedStringWithCanonicalMapping.unicodeScalars {
            if isWhitespace(s) {
                pendingSpace = !out.isEmpty
                continue
            }
            if pendingSpace {
                out.append(" ")
                pendingSpace = false
            }
            if s.isASCII {
                out.append(s.value >= 0x41 && s.value <= 0x5A ? Unicode.Scalar(s.value + 32)! : s)
            } else {
                out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return String(out)
    }

    /// Python's `\s`: the White_Space property plus the separators U+001C–U+001F.
    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        s.properties.isWhitespace || (0x1C...0x1F).contains(s.value)
    }

    static func isLetter(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: true
        default: false
        }
    }

    static func isNumber(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: true
        default: false
        }
    }

    /// The pieces of already cleaned text, at most `limit` of them (each
    /// piece makes at least one token, so a 77-token context needs no more).
    static func split(_ text: String, limit: Int = .max) -> [Piece] {
        let scalars = text.unicodeScalars
        var pieces: [Piece] = []
        var i = scalars.startIndex
        func matches(_ literal: String, at position: String.UnicodeScalarView.Index) -> Bool {
            var p = position
            for c in literal.unicodeScalars {
                guard p < scalars.endIndex, scalars[p] == c else { return false }
                p = scalars.index(after: p)
            }
            return true
        }
        scan: while i < scalars.endIndex, pieces.count < limit {
            let s = scalars[i]
            if isWhitespace(s) {
                i = scalars.index(after: i)
                continue
            }
            for special in specials where matches(special, at: i) {
                pieces.append(.special(special))
                i = scalars.index(i, offsetBy: special.unicodeScalars.count)
                continue scan
            }
            for contraction in contractions where matches(contraction, at: i) {
                let end = scalars.index(i, offsetBy: contraction.unicodeScalars.count)
                pieces.append(.text(scalars[i..<end]))
                i = end
                continue scan
            }
            var end = scalars.index(after: i)
            if isLetter(s) {
                while end < scalars.endIndex, isLetter(scalars[end]) { end = scalars.index(after: end) }
            } else if isNumber(s) {
                // one digit per piece
            } else {
                while end < scalars.endIndex {
                    let c = scalars[end]
                    if isWhitespace(c) || isLetter(c) || isNumber(c) { break }
                    end = scalars.index(after: end)
                }
            }
            pieces.append(.text(scalars[i..<end]))
            i = end
        }
        return pieces
    }
}
