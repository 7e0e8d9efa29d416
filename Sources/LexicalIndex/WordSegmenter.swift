/// Word segmentation by the Unicode word-boundary rules (UAX #29) that matter
/// for search, over code points already lower-cased.
///
/// Kept from UAX #29:
/// - letters, digits and connectors (`_`, ExtendNumLet) run together into one
///   word (WB5, WB8–WB10, WB13a/b), so `img_2041` and `mp3` are words;
/// - combining marks and joiners stay with the character before them (WB4);
/// - a MidLetter (`:` `·`) or MidNumLet (`.` `'` `’`) between two letters
///   does not break (WB6/7: `don't`, `e.g`);
/// - a MidNum (`,` `;`) or MidNumLet between two digits does not break
///   (WB11/12: `3.14`, `1,000`);
/// - every ideograph, Hiragana, Katakana and Hangul character is a segment of
///   its own, reported as CJK so the analyzer can pair neighbours into bigrams.
///
/// Everything else (spaces, punctuation, symbols, emoji) separates words and
/// yields no term. Simplified from UAX #29: Katakana runs and Hangul words
/// are split into characters (the analyzer bigrams them, as Lucene's
/// `CJKBigramFilter` does with Lucene's tokens), and the Hebrew and
/// regional-indicator rules are not applied.
enum WordSegmenter {
    enum Kind: UInt8 {
        case other, letter, digit, connector, extend, midLetter, midNum, midNumLet, cjk
    }

    /// The word-break class of a code point.
    @inline(__always)
    static func kind(_ c: UInt32) -> Kind {
        if c < 0x80 {
            switch c {
            case 0x61...0x7A, 0x41...0x5A: return .letter
            case 0x30...0x39: return .digit
            case 0x5F: return .connector
            case 0x2E, 0x27: return .midNumLet
            case 0x3A: return .midLetter
            case 0x2C, 0x3B: return .midNum
            default: return .other
            }
        }
        return nonASCIIKind(c)
    }

    static func nonASCIIKind(_ c: UInt32) -> Kind {
        switch c {
        case 0x2018, 0x2019, 0x2024, 0xFE52, 0xFF07, 0xFF0E: return .midNumLet
        case 0xB7, 0x387, 0x5F4, 0x2027, 0xFE13, 0xFE55, 0xFF1A: return .midLetter
        case 0x37E, 0x589, 0x60C, 0x60D, 0x66C, 0x7F8, 0x2044, 0xFE10, 0xFE14, 0xFE50, 0xFE54, 0xFF0C, 0xFF1B:
            return .midNum
        case 0x200D, 0x200C: return .extend
        case 0x3040...0x309F, 0x30A0...0x30FF, 0x31F0...0x31FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF,
            0xAC00...0xD7AF, 0x1100...0x11FF, 0x3130...0x318F, 0xFF66...0xFF9F, 0x20000...0x2FA1F:
            // The prolonged sound mark and iteration marks are Katakana/Hiragana too.
            return .cjk
        default:
            break
        }
        guard let scalar = Unicode.Scalar(c) else { return .other }
        let properties = scalar.properties
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .format: return .extend
        case .connectorPunctuation: return .connector
        case .decimalNumber: return .digit
        default: break
        }
        if properties.isAlphabetic { return .letter }
        if properties.numericType != nil { return .digit }
        return .other
    }

    /// Calls `word` with the range of each word (and whether it is a single
    /// CJK character), and `separator` where something that is not a word
    /// lies between two words.
    ///
    /// `text` holds code points (`UInt32`) or, for ASCII text, its bytes
    /// (`UInt8`): the same rules apply to both, so an ASCII text's words are
    /// the same whichever way it is read.
    @inline(__always)
    static func segment<Unit: FixedWidthInteger & UnsignedInteger>(
        _ text: UnsafeBufferPointer<Unit>, word: (Range<Int>, Bool) -> Void, separator: () -> Void
    ) {
        let n = text.count
        var i = 0
        while i < n {
            let k = kind(UInt32(text[i]))
            if k == .cjk {
                word(i..<(i + 1), true)
                i += 1
                // Marks after a CJK character belong to it; skip them.
                while i < n, kind(UInt32(text[i])) == .extend { i += 1 }
                continue
            }
            guard k == .letter || k == .digit || k == .connector else {
                if k != .extend { separator() }
                i += 1
                continue
            }
            let start = i
            var hasAlphanumeric = k != .connector
            var last = k  // the class of the last letter, digit or connector in the word
            i += 1
            while i < n {
                let c = kind(UInt32(text[i]))
                switch c {
                case .letter, .digit, .connector:
                    if c != .connector { hasAlphanumeric = true }
                    last = c
                    i += 1
                    continue
                case .extend:
                    i += 1
                    continue
                case .midLetter, .midNumLet, .midNum:
                    // Join only between two letters (WB6/7) or two digits (WB11/12).
                    guard i + 1 < n else { break }
                    let next = kind(UInt32(text[i + 1]))
                    if last == .letter, next == .letter, c != .midNum {
                        i += 2
                        last = .letter
                        continue
                    }
                    if last == .digit, next == .digit, c != .midLetter {
                        i += 2
                        last = .digit
                        continue
                    }
                default:
                    break
                }
                break
            }
            if hasAlphanumeric {
                word(start..<i, false)
            } else {
                separator()
            }
        }
    }

    /// Appends the UTF-8 encoding of a code point.
    @inline(__always)
    static func appendUTF8(_ c: UInt32, to out: inout [UInt8]) {
        switch c {
        case 0..<0x80:
            out.append(UInt8(c))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | (c >> 6)))
            out.append(UInt8(0x80 | (c & 0x3F)))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | (c >> 12)))
            out.append(UInt8(0x80 | ((c >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (c & 0x3F)))
        default:
            out.append(UInt8(0xF0 | (c >> 18)))
            out.append(UInt8(0x80 | ((c >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((c >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (c & 0x3F)))
        }
    }
}
