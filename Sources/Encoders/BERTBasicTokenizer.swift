import Foundation

/// BERT's basic tokenizer: the text clean-up and pre-split before WordPiece.
///
/// The rules are those of Hugging Face `tokenizers`' `BertNormalizer` and
/// `BertPreTokenizer` (what `AutoTokenizer` runs for BERT models), step by
/// step:
///
/// 1. clean-up: U+0000, U+FFFD and every other-category scalar (`Cc`, `Cf`,
///    `Cs`, `Co`, `Cn`) except tab, newline and carriage return are dropped;
///    every White_Space scalar becomes a space;
/// 2. CJK ideographs (the CJK Unified Ideographs blocks and extensions A–E
///    and the compatibility blocks) get a space on each side;
/// 3. with accent stripping (on when lower-casing, unless set): canonical
///    decomposition (NFD), then non-spacing marks (`Mn`) dropped;
/// 4. lower-casing: each scalar's full lower-case mapping;
/// 5. split on whitespace, and every punctuation scalar — ASCII
///    punctuation or a `P*` category — becomes a token of its own.
struct BERTBasicTokenizer: Sendable {
    var lowercase: Bool
    var stripAccents: Bool

    init(lowercase: Bool, stripAccents: Bool? = nil) {
        self.lowercase = lowercase
        self.stripAccents = stripAccents ?? lowercase
    }

    /// The words and punctuation marks of `text`, normalised.
    func tokenize(_ text: String) -> [String] {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.unicodeScalars.count)
        for s in text.unicodeScalars {
            if s.value == 0 || s.value == 0xFFFD || Self.isControl(s) { continue }
            if Self.isWhitespace(s) {
                scalars.append(" ")
            } else if Self.isCJK(s) {
                scalars.append(" ")
                scalars.append(s)
                scalars.append(" ")
            } else {
                scalars.append(s)
            }
        }
        if stripAccents {
            var composed = String.UnicodeScalarView()
            composed.append(contentsOf: scalars)
            scalars = String(composed).decomposedStringWithCanonicalMapping.unicodeScalars.filter {
                $0.properties.generalCategory != .nonspacingMark
            }
        }
        if lowercase {
            var lowered: [Unicode.Scalar] = []
            lowered.reserveCapacity(scalars.count)
            for s in scalars {
                if s.isASCII {
                    lowered.append(s.value >= 0x41 && s.value <= 0x5A ? Unicode.Scalar(s.value + 32)! : s)
                } else {
                    lowered.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
                }
            }
            scalars = lowered
        }
        var tokens: [String] = []
        var word = String.UnicodeScalarView()
        func flush() {
            if !word.isEmpty {
                tokens.append(String(word))
                word = String.UnicodeScalarView()
            }
        }
        for s in scalars {
            if Self.isWhitespace(s) {
                flush()
            } else if Self.isPunctuation(s) {
                flush()
                tokens.append(String(Character(s)))
            } else {
                word.append(s)
            }
        }
        flush()
        return tokens
    }

    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == " " || s == "\t" || s == "\n" || s == "\r" || s.properties.isWhitespace
    }

    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch s.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned: return true
        default: return false
        }
    }

    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) {
            return true
        }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    static func isCJK(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
            0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }
}
