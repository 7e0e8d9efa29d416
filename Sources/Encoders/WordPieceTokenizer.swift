import SearchCore
import StoragePrimitives

/// BERT's tokenizer: the basic tokenizer's clean-up and split, then WordPiece.
///
/// WordPiece is greedy longest-match-first: a word is cut into the longest
/// vocabulary prefix, then the longest `##`-prefixed continuation, and so on;
/// a word with a piece not in the vocabulary, or longer than 100 scalars,
/// becomes `[UNK]` whole (Schuster & Nakajima 2012; BERT, Devlin et al. 2019).
/// ``encode(_:)`` wraps the pieces in `[CLS]` … `[SEP]` and truncates to
/// ``maximumLength`` ids, `[SEP]` kept last.
///
/// ```swift
/// let tokenizer = try WordPieceTokenizer(vocabularyPath: "vocab.txt")
/// tokenizer.encode("a photo of an astronaut")   // [101, 1037, 6302, 1997, 2019, 19748, 102]
/// ```
public struct WordPieceTokenizer: Sendable {
    /// Token → id; the id is the line number (from 0) in `vocab.txt`.
    public let vocabulary: [String: Int32]
    /// The ids of `[CLS]`, `[SEP]`, `[UNK]` and `[PAD]`.
    public let classID: Int32, separatorID: Int32, unknownID: Int32, paddingID: Int32
    /// The most ids ``encode(_:)`` returns, `[CLS]` and `[SEP]` included.
    public var maximumLength: Int
    /// Words longer than this many scalars become `[UNK]` (100 in BERT).
    public var maximumWordLength = 100
    let basic: BERTBasicTokenizer

    /// Reads a `vocab.txt` (one token per line; the line number is the id).
    ///
    /// - Parameters:
    ///   - lowercase: BERT's `do_lower_case` (uncased models: true).
    ///   - stripAccents: strip combining marks; nil follows `lowercase`, as BERT does.
    ///   - maximumLength: truncation length in ids (a model's `max_seq_length`).
    /// - Throws: ``SearchCore/SearchError/Code/corruptData`` when a special token is missing.
    public init(vocabularyPath: String, lowercase: Bool = true, stripAccents: Bool? = nil, maximumLength: Int = 512)
        throws(SearchError)
    {
        let bytes = try readFile(vocabularyPath, limit: 64 << 20)
        var vocabulary: [String: Int32] = [:]
        var id: Int32 = 0
        var start = 0
        for i in 0...bytes.count where i == bytes.count || bytes[i] == 0x0A {
            if i == bytes.count && start == i { break }
            var end = i
            if end > start && bytes[end - 1] == 0x0D { end -= 1 }
            let token = String(decoding: bytes[start..<end], as: UTF8.self)
            if vocabulary[token] == nil { vocabulary[token] = id }
            id += 1
            start = i + 1
        }
        try self.init(vocabulary: vocabulary, lowercase: lowercase, stripAccents: stripAccents, maximumLength: maximumLength)
    }

    /// Uses a vocabulary given in memory.
    public init(vocabulary: [String: Int32], lowercase: Bool = true, stripAccents: Bool? = nil, maximumLength: Int = 512)
        throws(SearchError)
    {
        func special(_ token: String) throws(SearchError) -> Int32 {
            guard let id = vocabulary[token] else {
                throw SearchError(.corruptData, "the WordPiece vocabulary has no \(token) token")
            }
            return id
        }
        guard maximumLength >= 2 else {
            throw SearchError(.invalidArgument, "maximumLength \(maximumLength) leaves no room for [CLS] and [SEP]")
        }
        self.vocabulary = vocabulary
        classID = try special("[CLS]")
        separatorID = try special("[SEP]")
        unknownID = try special("[UNK]")
        paddingID = vocabulary["[PAD]"] ?? 0
        self.maximumLength = maximumLength
        basic = BERTBasicTokenizer(lowercase: lowercase, stripAccents: stripAccents)
    }

    /// The ids of `text`: `[CLS]`, the word pieces (truncated), `[SEP]`.
    public func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = [classID]
        let budget = maximumLength - 1
        for word in basic.tokenize(text) {
            if ids.count >= budget { break }
            appendPieces(of: word, to: &ids)
        }
        if ids.count > budget { ids.removeLast(ids.count - budget) }
        ids.append(separatorID)
        return ids
    }

    /// The word pieces of `text` as strings, without special tokens (for tests and debugging).
    public func tokenize(_ text: String) -> [String] {
        let reverse = Dictionary(vocabulary.map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var ids: [Int32] = []
        for word in basic.tokenize(text) { appendPieces(of: word, to: &ids) }
        return ids.map { reverse[$0] ?? "[UNK]" }
    }

    private func appendPieces(of word: String, to ids: inout [Int32]) {
        let scalars = Array(word.unicodeScalars)
        guard scalars.count <= maximumWordLength else {
            ids.append(unknownID)
            return
        }
        let mark = ids.count
        var start = 0
        while start < scalars.count {
            var end = scalars.count
            var found: Int32?
            while end > start {
                var piece = String.UnicodeScalarView()
                if start > 0 { piece.append(contentsOf: "##".unicodeScalars) }
                piece.append(contentsOf: scalars[start..<end])
                if let id = vocabulary[String(piece)] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let found else {
                ids.removeLast(ids.count - mark)
                ids.append(unknownID)
                return
            }
            ids.append(found)
            start = end
        }
    }
}

/// Reads a whole small file (vocabularies, configurations) into memory.
func readFile(_ path: String, limit: Int) throws(SearchError) -> [UInt8] {
    try SystemCalls.readFile(path, limit: limit)
}

/// Reads and parses a JSON file.
func readJSON(_ path: String) throws(SearchError) -> JSONValue {
    try JSONValue.parse(try readFile(path, limit: 16 << 20), what: path)
}
