import SearchCore

extension SentencePieceTokenizer {
    /// The text of `ids`, as SentencePiece's `decode` gives it: `▁` becomes a
    /// space, the dummy prefix's space is dropped, control pieces vanish, an
    /// unknown piece reads " ⁇ " (the model's `unk_surface`), runs of byte
    /// pieces are joined and read as UTF-8 (an invalid byte as U+FFFD). Ids
    /// out of range are skipped. For a `tokenizer.json` model, its decoder
    /// runs instead.
    public func decode(_ ids: [Int32]) -> String {
        let valid = ids.filter { $0 >= 0 && Int($0) < pieces.count }
        if let json { return json.decode(valid, model: self) }
        var text: [UInt8] = []
        var bytes: [UInt8] = []
        var atStart = true
        var startSpaceSeen = false
        func flushBytes() {
            guard !bytes.isEmpty else { return }
            var offset = 0
            while offset < bytes.count {
                let length = validUTF8Length(bytes[offset...])
                if length == 0 {
                    text += [0xEF, 0xBF, 0xBD]
                    offset += 1
                } else {
                    text += bytes[offset..<(offset + length)]
                    offset += length
                }
            }
            bytes.removeAll(keepingCapacity: true)
        }
        for id in valid {
            let piece = pieces[Int(id)]
            if piece.type == .byte, let b = Self.byteValue(piece.text) {
                bytes.append(b)
                continue
            }
            flushBytes()
            if startSpaceSeen || !text.isEmpty { atStart = false }
            switch piece.type {
            case .control:
                startSpaceSeen = false
            case .unknown:
                text += unknownSurface
                startSpaceSeen = false
            default:
                var body = piece.text[...]
                var stripped = false
                if atStart && (addDummyPrefix || removeExtraWhitespaces), body.starts(with: SentencePieceNormalizer.space) {
                    body.removeFirst(3)
                    stripped = !removeExtraWhitespaces
                }
                startSpaceSeen = stripped
                var i = body.startIndex
                while i < body.endIndex {
                    if body[i...].starts(with: SentencePieceNormalizer.space) {
                        text.append(0x20)
                        i += 3
                    } else {
                        text.append(body[i])
                        i += 1
                    }
                }
            }
        }
        flushBytes()
        if let denormalizer { text = denormalizer.normalize(text) }
        return String(decoding: text, as: UTF8.self)
    }
}

/// The length of the valid UTF-8 sequence at the start of `bytes`, or 0 if it is not one.
func validUTF8Length(_ bytes: ArraySlice<UInt8>) -> Int {
    guard let lead = bytes.first else { return 0 }
    let length: Int
    var scalar: UInt32
    switch lead {
    case 0x00...0x7F: return 1
    case 0xC2...0xDF: length = 2; scalar = UInt32(lead & 0x1F)
    case 0xE0...0xEF: length = 3; scalar = UInt32(lead & 0x0F)
    case 0xF0...0xF4: length = 4; scalar = UInt32(lead & 0x07)
    default: return 0
    }
    guard bytes.count >= length else { return 0 }
    for k in 1..<length {
        let c = bytes[bytes.startIndex + k]
        guard c & 0xC0 == 0x80 else { return 0 }
        scalar = scalar << 6 | UInt32(c & 0x3F)
    }
    switch length {
    case 3 where scalar < 0x800 || (0xD800...0xDFFF).contains(scalar): return 0
    case 4 where scalar < 0x10000 || scalar > 0x10FFFF: return 0
    default: return length
    }
}
