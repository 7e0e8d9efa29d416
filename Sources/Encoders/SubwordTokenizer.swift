/// Turns text into a subword model's token ids, without special tokens: the
/// seam between a text tower and its tokenizer (SentencePiece for SigLIP and
/// XLM-RoBERTa). The tower adds its own start, end and padding ids (see
/// ``TextFraming``).
public protocol SubwordTokenizer: Sendable {
    /// The ids of `text`'s pieces, without start, end or padding ids.
    func encode(_ text: String) -> [Int32]
}

/// How a text tower frames a tokenizer's ids into the sequence it was trained on:
/// text normalisation before tokenizing, start and end ids, truncation and padding.
public struct TextFraming: Sendable, Equatable {
    /// Ids put before the text's (a beginning-of-sequence id, or none).
    public var leadingIDs: [Int32]
    /// Ids put after the text's (the end-of-sequence id).
    public var trailingIDs: [Int32]
    /// The id padding fills with.
    public var paddingID: Int32
    /// The sequence length: longer texts are cut (keeping the leading and
    /// trailing ids), shorter ones padded to it when ``padsToLength`` is set.
    public var length: Int
    /// Pad every sequence to ``length`` (SigLIP was trained on padded
    /// sequences and pools at the last position, so padding changes the result).
    public var padsToLength: Bool
    /// Lowercase the text first (SigLIP's and SigLIP 2's training text was lowercased).
    public var lowercases: Bool
    /// Remove ASCII punctuation and collapse runs of white space, as
    /// Hugging Face's `SiglipTokenizer.canonicalize_text` does.
    public var canonicalizes: Bool

    /// A framing given field by field.
    public init(
        leadingIDs: [Int32] = [], trailingIDs: [Int32], paddingID: Int32, length: Int, padsToLength: Bool,
        lowercases: Bool = false, canonicalizes: Bool = false
    ) {
        self.leadingIDs = leadingIDs
        self.trailingIDs = trailingIDs
        self.paddingID = paddingID
        self.length = length
        self.padsToLength = padsToLength
        self.lowercases = lowercases
        self.canonicalizes = canonicalizes
    }

    /// The text as the tokenizer should see it.
    public func prepare(_ text: String) -> String {
        var text = lowercases ? text.lowercased() : text
        if canonicalizes {
            let punctuation = Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".unicodeScalars)
            var kept = String.UnicodeScalarView()
            var pendingSpace = false
            for scalar in text.unicodeScalars where !punctuation.contains(scalar) {
                if scalar.properties.isWhitespace {
                    pendingSpace = !kept.isEmpty
                    continue
                }
                if pendingSpace { kept.append(" ") }
                pendingSpace = false
                kept.append(scalar)
            }
            text = String(kept)
        }
        return text
    }

    /// `ids` (a tokenizer's, without special ids) framed: leading ids, as many
    /// of `ids` as fit, trailing ids, then padding when ``padsToLength``.
    public func frame(_ ids: [Int32]) -> [Int32] {
        let room = Swift.max(0, length - leadingIDs.count - trailingIDs.count)
        var sequence = leadingIDs + ids.prefix(room) + trailingIDs
        if sequence.count > length { sequence.removeLast(sequence.count - length) }
        if padsToLength, sequence.count < length {
            sequence += [Int32](repeating: paddingID, count: length - sequence.count)
        }
        return sequence
    }
}

/// XLM-RoBERTa's ids from the ids of its SentencePiece model
/// (`sentencepiece.bpe.model`): fairseq's dictionary puts `<s>`, `<pad>`,
/// `</s>` and `<unk>` at 0–3 and every other piece one past its
/// SentencePiece id, so SentencePiece's `<unk>` (0) becomes 3 and piece `i`
/// becomes `i + 1`. (A `tokenizer.json` already holds the shifted ids.)
public struct FairseqOffsetTokenizer<Base: SubwordTokenizer>: SubwordTokenizer {
    /// The SentencePiece tokenizer whose ids are shifted.
    public let base: Base

    /// Shifts `base`'s ids.
    public init(_ base: Base) { self.base = base }

    /// `base`'s ids, shifted into the fairseq dictionary.
    public func encode(_ text: String) -> [Int32] {
        base.encode(text).map { $0 == 0 ? 3 : $0 + 1 }
    }
}

/// SentencePiece is the subword model of SigLIP, SigLIP 2 and XLM-RoBERTa.
extension SentencePieceTokenizer: SubwordTokenizer {}
