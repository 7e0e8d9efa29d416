import SearchCore

/// A SentencePiece tokenizer (Kudo & Richardson 2018) that gives the same
/// ids as Google's `sentencepiece` library: unigram models segmented by
/// Viterbi search over the lattice of known pieces (Kudo 2018), BPE models
/// by merging the highest-scoring adjacent pair (Sennrich et al. 2016).
///
/// It reads a `.model` file (`spiece.model`, `tokenizer.model`, … — the
/// serialised `ModelProto`, parsed here without a protobuf library; word
/// and character models too) and follows everything in it that changes
/// the ids:
///
/// - the normaliser: the precompiled character map (`nmt_nfkc`, `identity`,
///   or custom rules) applied by longest match; leading, trailing and
///   repeated spaces removed; the dummy `▁` prefix (or suffix, with
///   `treat_whitespace_as_suffix`); spaces written as `▁`;
/// - user-defined symbols, matched longest first and never split;
/// - unknown characters: a run of them is one unknown id, or, with
///   `byte_fallback`, each becomes its UTF-8 bytes as `<0xNN>` pieces;
/// - control symbols (`<s>`, `</s>`, …) are never produced from text:
///   ``encode(_:)`` adds no special tokens; put ``beginID`` / ``endID``
///   around the ids where a model wants them.
///
/// ``init(tokenizerJSONAt:)`` reads instead a Hugging Face `tokenizer.json`
/// with a Unigram model (what XLM-RoBERTa repositories ship), and then
/// tokenises as the `tokenizers` library does with that file.
///
/// ```swift
/// let tokenizer = try SentencePieceTokenizer(modelAt: "spiece.model")
/// let ids = tokenizer.encode("Café naïve")     // no <s> or </s>
/// let text = tokenizer.decode(ids)               // "Café naïve"
/// ```
public struct SentencePieceTokenizer: Sendable {
    /// How a model segments normalised text.
    public enum Algorithm: Sendable, Equatable {
        /// Unigram language model: the segmentation with the highest total piece score.
        case unigram
        /// Byte-pair encoding: repeatedly merge the adjacent pair whose merged piece scores highest.
        case bytePairEncoding
        /// Whole words (split before each `▁`, or after it with whitespace as a suffix), each looked up.
        case word
        /// One piece per character (user-defined symbols whole), each looked up.
        case character
    }

    /// The model's segmentation algorithm.
    public let algorithm: Algorithm
    /// The number of ids (pieces).
    public var vocabularySize: Int { pieces.count }
    /// The unknown piece's id (`<unk>`).
    public let unknownID: Int32
    /// The ids of `<s>`, `</s>` and `<pad>` when the model has them as control symbols, else nil.
    public let beginID: Int32?, endID: Int32?, paddingID: Int32?
    /// Whether unknown characters become `<0xNN>` byte pieces instead of the unknown id.
    public let byteFallback: Bool

    struct Piece: Sendable {
        var text: [UInt8]
        var score: Float
        var type: SentencePieceModelProto.PieceType
    }

    let pieces: [Piece]
    /// Pieces the segmenters may use (normal, user-defined, unused; every
    /// piece for a `tokenizer.json` model), piece → id.
    let trie: ByteTrie
    /// Control, unknown and byte pieces, piece → id (looked up first, as SentencePiece does).
    let reserved: ByteTrie
    /// `<0xNN>`'s id for each byte, when the model has byte pieces.
    let byteIDs: [Int32]?
    /// The normaliser (for `.model` files).
    let normalizer: SentencePieceNormalizer?
    let denormalizer: SentencePieceNormalizer?
    /// The lowest and highest score of a normal piece (unknown penalty, user-defined bonus).
    let minimumScore: Float, maximumScore: Float
    /// What decoding writes for an unknown piece (`unk_surface`, default " ⁇ ").
    let unknownSurface: [UInt8]
    let addDummyPrefix: Bool, removeExtraWhitespaces: Bool
    /// `treat_whitespace_as_suffix` and `allow_whitespace_only_pieces` (how word models split).
    let whitespaceAsSuffix: Bool, whitespaceOnlyPieces: Bool
    /// The `tokenizer.json` pipeline, when loaded from one.
    let json: TokenizerJSONPipeline?

    /// Reads a SentencePiece `.model` file.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/io`` or
    ///   ``SearchCore/SearchError/Code/notFound`` when the file cannot be read;
    ///   see ``init(modelData:)`` for a damaged model.
    public init(modelAt path: String) throws(SearchError) {
        try self.init(modelData: try readFile(path, limit: 256 << 20))
    }

    /// Parses the bytes of a SentencePiece `.model` file.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/corruptData`` for a truncated or
    ///   damaged file (malformed protobuf, an empty or duplicated piece, no or
    ///   two unknown pieces, byte pieces missing under `byte_fallback`, a
    ///   broken character map).
    public init(modelData: [UInt8]) throws(SearchError) {
        let proto = try SentencePieceModelProto(bytes: modelData)
        switch proto.trainer.modelType {
        case .unigram: algorithm = .unigram
        case .bpe: algorithm = .bytePairEncoding
        case .word: algorithm = .word
        case .character: algorithm = .character
        }
        guard !proto.pieces.isEmpty else { throw SearchError(.corruptData, "SentencePiece model: no pieces") }
        var trie = ByteTrie(), reserved = ByteTrie(), userDefined = ByteTrie()
        var seen = Set<[UInt8]>()
        var unknown: Int32?
        var byteIDs = [Int32](repeating: -1, count: 256)
        var minimum = Float.greatestFiniteMagnitude, maximum = Float.leastNormalMagnitude
        for (i, p) in proto.pieces.enumerated() {
            let id = Int32(i)
            guard !p.text.isEmpty, !p.text.contains(0) else {
                throw SearchError(.corruptData, "SentencePiece model: piece \(i) is empty or holds a NUL byte")
            }
            guard seen.insert(p.text).inserted else {
                throw SearchError(.corruptData, "SentencePiece model: piece \(i) \"\(String(decoding: p.text, as: UTF8.self))\" is defined twice")
            }
            switch p.type {
            case .normal, .userDefined, .unused: trie.insert(p.text, value: id)
            case .control, .unknown, .byte: reserved.insert(p.text, value: id)
            }
            if p.type == .normal {
                minimum = min(minimum, p.score)
                maximum = max(maximum, p.score)
            }
            if p.type == .userDefined { userDefined.insert(p.text, value: id) }
            if p.type == .unknown {
                guard unknown == nil else { throw SearchError(.corruptData, "SentencePiece model: two unknown pieces") }
                unknown = id
            }
            if p.type == .byte {
                guard proto.trainer.byteFallback, let byte = Self.byteValue(p.text) else {
                    throw SearchError(
                        .corruptData, "SentencePiece model: byte piece \(i) is not <0xNN> or byte_fallback is off")
                }
                byteIDs[Int(byte)] = id
            }
        }
        guard let unknown else { throw SearchError(.corruptData, "SentencePiece model: no unknown piece") }
        if proto.trainer.byteFallback {
            guard !byteIDs.contains(-1) else {
                throw SearchError(.corruptData, "SentencePiece model: byte_fallback is on but not all 256 byte pieces exist")
            }
            self.byteIDs = byteIDs
        } else {
            self.byteIDs = nil
        }
        pieces = proto.pieces.map { Piece(text: $0.text, score: $0.score, type: $0.type) }
        self.trie = trie
        self.reserved = reserved
        unknownID = unknown
        byteFallback = proto.trainer.byteFallback
        minimumScore = minimum
        maximumScore = maximum
        unknownSurface = proto.trainer.unknownSurface
        addDummyPrefix = proto.normalizer.addDummyPrefix
        removeExtraWhitespaces = proto.normalizer.removeExtraWhitespaces
        whitespaceAsSuffix = proto.trainer.treatWhitespaceAsSuffix
        whitespaceOnlyPieces = proto.trainer.allowWhitespaceOnlyPieces
        normalizer = try SentencePieceNormalizer(
            spec: proto.normalizer, treatWhitespaceAsSuffix: proto.trainer.treatWhitespaceAsSuffix,
            userDefined: userDefined)
        if let spec = proto.denormalizer, !spec.precompiledCharsMap.isEmpty {
            denormalizer = try SentencePieceNormalizer(spec: spec, treatWhitespaceAsSuffix: false, userDefined: ByteTrie())
        } else {
            denormalizer = nil
        }
        json = nil
        // As SentencePieceProcessor: a special id counts only if its piece has the right type.
        func special(_ name: String, _ type: SentencePieceModelProto.PieceType) -> Int32? {
            guard let id = reserved.lookup(Array(name.utf8)) ?? trie.lookup(Array(name.utf8)),
                proto.pieces[Int(id)].type == type
            else { return nil }
            return id
        }
        beginID = special(proto.trainer.beginPiece, .control)
        endID = special(proto.trainer.endPiece, .control)
        paddingID = special(proto.trainer.paddingPiece, .control)
    }

    init(
        algorithm: Algorithm, pieces: [Piece], trie: ByteTrie, unknownID: Int32, byteIDs: [Int32]?,
        beginID: Int32?, endID: Int32?, paddingID: Int32?, json: TokenizerJSONPipeline
    ) {
        self.algorithm = algorithm
        self.pieces = pieces
        self.trie = trie
        reserved = ByteTrie()
        self.unknownID = unknownID
        self.byteIDs = byteIDs
        byteFallback = byteIDs != nil
        self.beginID = beginID
        self.endID = endID
        self.paddingID = paddingID
        normalizer = nil
        denormalizer = nil
        minimumScore = pieces.map(\.score).min() ?? 0
        maximumScore = 0
        unknownSurface = Array(" \u{2047} ".utf8)
        addDummyPrefix = true
        removeExtraWhitespaces = false
        whitespaceAsSuffix = false
        whitespaceOnlyPieces = false
        self.json = json
    }

    /// `<0xNN>` → NN.
    static func byteValue(_ text: [UInt8]) -> UInt8? {
        guard text.count == 6, text[0] == UInt8(ascii: "<"), text[1] == UInt8(ascii: "0"), text[2] == UInt8(ascii: "x"),
            text[5] == UInt8(ascii: ">")
        else { return nil }
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        guard let high = hex(text[3]), let low = hex(text[4]) else { return nil }
        return high << 4 | low
    }

    /// The id of `piece`, or nil when the vocabulary has no such piece.
    public func pieceID(_ piece: String) -> Int32? {
        let bytes = Array(piece.utf8)
        if let id = reserved.lookup(bytes) ?? trie.lookup(bytes) { return id }
        // A tokenizer.json's added tokens (NLLB's language codes lie past the model's vocabulary).
        guard let json, let index = json.rawTrie.lookup(bytes) ?? json.normalizedTrie.lookup(bytes) else { return nil }
        return json.added[Int(index)].id
    }

    /// The piece with id `id` (`▁` marks a space), or nil for an id out of range.
    public func piece(_ id: Int32) -> String? {
        guard id >= 0, Int(id) < pieces.count else { return nil }
        return String(decoding: pieces[Int(id)].text, as: UTF8.self)
    }

    /// The ids of `text`, without special tokens.
    ///
    /// - Complexity: O(*n* · *k*) for unigram models, *n* the normalised
    ///   length in bytes and *k* the longest piece; O(*n* log *n*) for BPE.
    public func encode(_ text: String) -> [Int32] {
        if json != nil { return segments(text).map(\.id) }
        guard let normalizer, !text.isEmpty else { return [] }
        let raw = rawSegments(normalizer.normalize(Array(text.utf8)))
        var ids: [Int32] = []
        ids.reserveCapacity(raw.count)
        var previousUnknown = false
        for (piece, id) in raw {
            let type = pieces[Int(id)].type
            let unknown = type == .unknown
            if unknown, let byteIDs {
                for b in piece { ids.append(byteIDs[Int(b)]) }
            } else if !(unknown && previousUnknown) {
                ids.append(id)
            }
            previousUnknown = unknown
        }
        return ids
    }

    /// The pieces of `text` as strings (`▁` for spaces, `<0xNN>` for fallback
    /// bytes; a run of unknown characters is one piece holding them).
    public func pieces(_ text: String) -> [String] {
        segments(text).map { String(decoding: $0.piece, as: UTF8.self) }
    }

    /// (piece bytes, id) for each token of `text`.
    func segments(_ text: String) -> [(piece: [UInt8], id: Int32)] {
        if let json { return json.encode(text, model: self) }
        guard let normalizer, !text.isEmpty else { return [] }
        let raw = rawSegments(normalizer.normalize(Array(text.utf8)))
        var output: [(piece: [UInt8], id: Int32)] = []
        output.reserveCapacity(raw.count)
        var previousUnknown = false
        for (piece, id) in raw {
            let type = pieces[Int(id)].type
            if type == .control {
                output.append((Array(piece), id))
                previousUnknown = false
                continue
            }
            let unknown = type == .unknown
            if unknown, let byteIDs {
                for b in piece { output.append((Array(Self.bytePiece(b).utf8), byteIDs[Int(b)])) }
            } else if unknown && previousUnknown {
                output[output.count - 1].piece += piece
            } else {
                output.append((Array(piece), id))
            }
            previousUnknown = unknown
        }
        return output
    }

    /// The model's segmentation of normalised text, before unknown pieces are merged or spelt as bytes.
    func rawSegments(_ normalized: [UInt8]) -> [(piece: ArraySlice<UInt8>, id: Int32)] {
        switch algorithm {
        case .unigram: unigramSegments(normalized)
        case .bytePairEncoding: bytePairSegments(normalized)
        case .word: wordSegments(normalized)
        case .character: characterSegments(normalized)
        }
    }

    static func bytePiece(_ b: UInt8) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        return String(decoding: [UInt8(ascii: "<"), UInt8(ascii: "0"), UInt8(ascii: "x"), digits[Int(b >> 4)], digits[Int(b & 15)], UInt8(ascii: ">")], as: UTF8.self)
    }
}
