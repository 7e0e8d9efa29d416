import SearchCore

/// The parts of SentencePiece's `ModelProto` (a protobuf 2 message, the
/// whole of a `.model` file) that tokenising and detokenising read.
///
/// The wire format is read by hand (Protocol Buffers encoding: each field a
/// varint key `field << 3 | wire type`, then a varint, a little-endian
/// fixed32/fixed64, or a varint length and that many bytes). Field numbers
/// are those of `sentencepiece_model.proto`:
///
/// | message | field | number | wire |
/// | --- | --- | --- | --- |
/// | ModelProto | pieces (repeated SentencePiece) | 1 | bytes |
/// | ModelProto | trainer_spec | 2 | bytes |
/// | ModelProto | normalizer_spec | 3 | bytes |
/// | ModelProto | denormalizer_spec | 5 | bytes |
/// | SentencePiece | piece | 1 | bytes (UTF-8) |
/// | SentencePiece | score | 2 | fixed32 (float) |
/// | SentencePiece | type | 3 | varint (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte) |
/// | TrainerSpec | model_type | 3 | varint (1 unigram, 2 BPE, 3 word, 4 char) |
/// | TrainerSpec | treat_whitespace_as_suffix / split_digits / allow_whitespace_only_pieces | 24 / 25 / 26 | varint |
/// | TrainerSpec | byte_fallback | 35 | varint |
/// | TrainerSpec | unk_id / bos_id / eos_id / pad_id | 40–43 | varint (int32) |
/// | TrainerSpec | unk_surface | 44 | bytes |
/// | TrainerSpec | unk_piece / bos_piece / eos_piece / pad_piece | 45–48 | bytes |
/// | NormalizerSpec | name | 1 | bytes |
/// | NormalizerSpec | precompiled_charsmap | 2 | bytes |
/// | NormalizerSpec | add_dummy_prefix / remove_extra_whitespaces / escape_whitespaces | 3 / 4 / 5 | varint |
///
/// Other fields are skipped by wire type. Absent fields take the proto's defaults.
struct SentencePieceModelProto: Sendable {
    /// A piece's type; raw values are the proto's enum values.
    enum PieceType: UInt8, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    struct Piece: Sendable {
        var text: [UInt8]
        var score: Float
        var type: PieceType
    }

    enum ModelType: Int, Sendable {
        case unigram = 1, bpe = 2, word = 3, character = 4
    }

    struct TrainerSpec: Sendable {
        var modelType: ModelType = .unigram
        var treatWhitespaceAsSuffix = false
        var splitDigits = false
        var allowWhitespaceOnlyPieces = false
        var byteFallback = false
        var unknownID: Int32 = 0, beginID: Int32 = 1, endID: Int32 = 2, paddingID: Int32 = -1
        var unknownSurface: [UInt8] = Array(" \u{2047} ".utf8)
        var unknownPiece = "<unk>", beginPiece = "<s>", endPiece = "</s>", paddingPiece = "<pad>"
    }

    struct NormalizerSpec: Sendable {
        var name = ""
        var precompiledCharsMap: [UInt8] = []
        var addDummyPrefix = true
        var removeExtraWhitespaces = true
        var escapeWhitespaces = true
    }

    var pieces: [Piece] = []
    var trainer = TrainerSpec()
    var normalizer = NormalizerSpec()
    var denormalizer: NormalizerSpec?

    /// Parses a serialised `ModelProto`.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/corruptData`` for a truncated or
    ///   malformed message (a length past the end, an unterminated varint, a
    ///   wire type protobuf does not have, an unknown enum value).
    init(bytes: [UInt8]) throws(SearchError) {
        var reader = ProtobufReader(bytes: bytes[...], what: "SentencePiece model")
        while let (field, wire) = try reader.nextKey() {
            switch (field, wire) {
            case (1, 2): pieces.append(try Self.piece(reader.lengthDelimited(), index: pieces.count))
            case (2, 2): trainer = try Self.trainerSpec(reader.lengthDelimited())
            case (3, 2): normalizer = try Self.normalizerSpec(reader.lengthDelimited(), what: "normalizer_spec")
            case (5, 2): denormalizer = try Self.normalizerSpec(reader.lengthDelimited(), what: "denormalizer_spec")
            default: try reader.skip(wire)
            }
        }
    }

    private static func piece(_ bytes: ArraySlice<UInt8>, index: Int) throws(SearchError) -> Piece {
        var reader = ProtobufReader(bytes: bytes, what: "piece \(index)")
        var piece = Piece(text: [], score: 0, type: .normal)
        while let (field, wire) = try reader.nextKey() {
            switch (field, wire) {
            case (1, 2): piece.text = Array(try reader.lengthDelimited())
            case (2, 5): piece.score = Float(bitPattern: try reader.fixed32())
            case (3, 0):
                let raw = try reader.varint()
                guard raw <= 6, let type = PieceType(rawValue: UInt8(raw)) else {
                    throw SearchError(.corruptData, "SentencePiece model: piece \(index) has unknown type \(raw)")
                }
                piece.type = type
            default: try reader.skip(wire)
            }
        }
        return piece
    }

    private static func trainerSpec(_ bytes: ArraySlice<UInt8>) throws(SearchError) -> TrainerSpec {
        var reader = ProtobufReader(bytes: bytes, what: "trainer_spec")
        var spec = TrainerSpec()
        while let (field, wire) = try reader.nextKey() {
            switch (field, wire) {
            case (3, 0):
                let raw = try reader.varint()
                guard raw <= 4, let type = ModelType(rawValue: Int(raw)) else {
                    throw SearchError(.corruptData, "SentencePiece model: unknown model_type \(raw)")
                }
                spec.modelType = type
            case (24, 0): spec.treatWhitespaceAsSuffix = try reader.varint() != 0
            case (25, 0): spec.splitDigits = try reader.varint() != 0
            case (26, 0): spec.allowWhitespaceOnlyPieces = try reader.varint() != 0
            case (35, 0): spec.byteFallback = try reader.varint() != 0
            case (40, 0): spec.unknownID = try reader.int32()
            case (41, 0): spec.beginID = try reader.int32()
            case (42, 0): spec.endID = try reader.int32()
            case (43, 0): spec.paddingID = try reader.int32()
            case (44, 2): spec.unknownSurface = Array(try reader.lengthDelimited())
            case (45, 2): spec.unknownPiece = String(decoding: try reader.lengthDelimited(), as: UTF8.self)
            case (46, 2): spec.beginPiece = String(decoding: try reader.lengthDelimited(), as: UTF8.self)
            case (47, 2): spec.endPiece = String(decoding: try reader.lengthDelimited(), as: UTF8.self)
            case (48, 2): spec.paddingPiece = String(decoding: try reader.lengthDelimited(), as: UTF8.self)
            default: try reader.skip(wire)
            }
        }
        return spec
    }

    private static func normalizerSpec(_ bytes: ArraySlice<UInt8>, what: String) throws(SearchError) -> NormalizerSpec {
        var reader = ProtobufReader(bytes: bytes, what: what)
        var spec = NormalizerSpec()
        while let (field, wire) = try reader.nextKey() {
            switch (field, wire) {
            case (1, 2): spec.name = String(decoding: try reader.lengthDelimited(), as: UTF8.self)
            case (2, 2): spec.precompiledCharsMap = Array(try reader.lengthDelimited())
            case (3, 0): spec.addDummyPrefix = try reader.varint() != 0
            case (4, 0): spec.removeExtraWhitespaces = try reader.varint() != 0
            case (5, 0): spec.escapeWhitespaces = try reader.varint() != 0
            default: try reader.skip(wire)
            }
        }
        return spec
    }
}
