import SearchCore

extension SentencePieceTokenizer {
    /// Reads a Hugging Face `tokenizer.json` whose model is `Unigram` (as
    /// XLM-RoBERTa and other SentencePiece-derived repositories ship it) and
    /// tokenises as the `tokenizers` library does with that file.
    ///
    /// Supported pieces of the file: added tokens (matched in the raw text,
    /// leftmost and longest first, with `lstrip`/`rstrip`; `single_word` is
    /// ignored, and tokens marked `normalized` are matched in the raw text
    /// too); the normalisers `Sequence`, `Precompiled` (SentencePiece's
    /// character map, applied per grapheme cluster with the shortest matching
    /// rule, as `tokenizers` applies it), `Strip`, `Replace` (a
    /// string, or a regex that is one character repeated: `" {2,}"`, `" +"`),
    /// `Lowercase` and `Prepend`; the pre-tokenizer `Metaspace` (with
    /// `prepend_scheme` or the older `add_prefix_space`, and `split`); the
    /// Unigram model with `unk_id` and `byte_fallback` (unknown characters in
    /// a row fuse into one unknown token, as `tokenizers` does); the decoders
    /// `Metaspace`, `Replace`, `ByteFallback`, `Fuse`, `Strip` and `Sequence`.
    /// Post-processors (special tokens around a sequence) are not applied:
    /// ``encode(_:)`` adds no special tokens.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/unsupportedFormat`` for another
    ///   model type or a component not listed above;
    ///   ``SearchCore/SearchError/Code/corruptData`` for a malformed file.
    public init(tokenizerJSONAt path: String) throws(SearchError) {
        let root = try JSONValue.parse(try readFile(path, limit: 256 << 20), what: path)
        try self.init(tokenizerJSON: root, what: path)
    }

    init(tokenizerJSON root: JSONValue, what: String) throws(SearchError) {
        func corrupt(_ message: String) -> SearchError { SearchError(.corruptData, "\(what): \(message)") }
        guard let model = root["model"], model["type"]?.stringValue == "Unigram" else {
            throw SearchError(
                .unsupportedFormat,
                "\(what): the model is \(root["model"]?["type"]?.stringValue ?? "missing"); only Unigram tokenizer.json files are read")
        }
        guard case .array(let vocabulary)? = model["vocab"], !vocabulary.isEmpty else {
            throw corrupt("the Unigram model has no vocab")
        }
        var pieces: [Piece] = []
        var scores: [Double] = []
        pieces.reserveCapacity(vocabulary.count)
        var trie = ByteTrie()
        for (i, entry) in vocabulary.enumerated() {
            guard case .array(let pair) = entry, pair.count == 2, let token = pair[0].stringValue,
                let score = pair[1].doubleValue, !token.isEmpty
            else { throw corrupt("vocab entry \(i) is not [piece, score]") }
            let bytes = Array(token.utf8)
            pieces.append(Piece(text: bytes, score: Float(score), type: .normal))
            scores.append(score)
            trie.insert(bytes, value: Int32(i), replacing: true)
        }
        let unknownID: Int32
        switch model["unk_id"] {
        case .none, .some(.null):
            throw SearchError(.unsupportedFormat, "\(what): a Unigram model without unk_id is not supported")
        case .some(let v):
            guard let id = v.intValue, id >= 0, id < pieces.count else { throw corrupt("unk_id is out of range") }
            unknownID = Int32(id)
        }
        pieces[Int(unknownID)].type = .unknown
        var byteIDs: [Int32]?
        if model["byte_fallback"]?.boolValue == true {
            var ids = [Int32](repeating: -1, count: 256)
            for b in 0..<256 {
                if let id = trie.lookup(Array(Self.bytePiece(UInt8(b)).utf8)) {
                    ids[b] = id
                    pieces[Int(id)].type = .byte
                }
            }
            byteIDs = ids
        }
        var added: [TokenizerJSONPipeline.AddedToken] = []
        if case .array(let tokens)? = root["added_tokens"] {
            for token in tokens {
                guard let id = token["id"]?.intValue, id >= 0, id < pieces.count, let content = token["content"]?.stringValue,
                    !content.isEmpty
                else { throw corrupt("an added token has no valid id or content") }
                let special = token["special"]?.boolValue ?? false
                if special { pieces[id].type = .control }
                added.append(.init(
                    content: Array(content.utf8), id: Int32(id), special: special,
                    leftStrip: token["lstrip"]?.boolValue ?? false, rightStrip: token["rstrip"]?.boolValue ?? false))
            }
        }
        let normalizers = try TokenizerJSONPipeline.normalizers(root["normalizer"], what: what)
        let metaspace = try TokenizerJSONPipeline.metaspace(root["pre_tokenizer"], what: what)
        let decoders = try TokenizerJSONPipeline.decoders(root["decoder"], what: what)
        func specialID(_ names: [String]) -> Int32? {
            for name in names {
                if let token = added.first(where: { $0.content == Array(name.utf8) }) { return token.id }
            }
            return nil
        }
        let pipeline = TokenizerJSONPipeline(
            scores: scores, added: added, normalizers: normalizers, metaspace: metaspace, decoders: decoders)
        self.init(
            algorithm: .unigram, pieces: pieces, trie: trie, unknownID: unknownID, byteIDs: byteIDs,
            beginID: specialID(["<s>", "<bos>", "[CLS]"]), endID: specialID(["</s>", "<eos>", "[SEP]"]),
            paddingID: specialID(["<pad>", "[PAD]"]), json: pipeline)
    }
}
