import SearchCore

extension SentencePieceTokenizer {
    /// Reads a Hugging Face `tokenizer.json` whose model is `Unigram` (as
    /// XLM-RoBERTa and other SentencePiece-derived repositories ship it) or
    /// `BPE` (Gemma's, which SigLIP 2 ships, and Llama's), and tokenises as
    /// the `tokenizers` library does with that file.
    ///
    /// Supported pieces of the file: added tokens (leftmost and longest
    /// first, with `lstrip`/`rstrip`; those marked `normalized` matched in the
    /// normalised text, the others in the raw text; `single_word` is
    /// ignored); the normalisers `Sequence`, `Precompiled` (SentencePiece's
    /// character map, applied per grapheme cluster with the shortest matching
    /// rule, as `tokenizers` applies it), `Strip`, `Replace` (a
    /// string, or a regex that is one character repeated: `" {2,}"`, `" +"`),
    /// `Lowercase` and `Prepend`; the pre-tokenizers `Metaspace` (with
    /// `prepend_scheme` or the older `add_prefix_space`, and `split`), `Split`
    /// on a string (Gemma's) and `Sequence`, or none; the
    /// Unigram model with `unk_id` and `byte_fallback` (unknown characters in
    /// a row fuse into one unknown token, as `tokenizers` does); the BPE model
    /// with `merges` (as `"a b"` strings or `[a, b]` pairs), `unk_token`,
    /// `fuse_unk`, `byte_fallback` and `ignore_merges` (not
    /// `continuing_subword_prefix`, `end_of_word_suffix` or dropout); the
    /// decoders `Metaspace`, `Replace`, `ByteFallback`, `Fuse`, `Strip` and
    /// `Sequence`. Post-processors (special tokens around a sequence) are not
    /// applied: ``encode(_:)`` adds no special tokens.
    ///
    /// ```swift
    /// let gemma = try SentencePieceTokenizer(tokenizerJSONAt: "siglip2-base-patch16-224/tokenizer.json")
    /// let ids = gemma.encode("a photo of a cat")
    /// ```
    ///
    /// - Throws: ``SearchCore/SearchError/Code/unsupportedFormat`` for another
    ///   model type or a component not listed above;
    ///   ``SearchCore/SearchError/Code/corruptData`` for a malformed file
    ///   (a BPE merge naming a token not in the vocabulary, ids with gaps).
    public init(tokenizerJSONAt path: String) throws(SearchError) {
        let root = try JSONValue.parse(try readFile(path, limit: 256 << 20), what: path)
        try self.init(tokenizerJSON: root, what: path)
    }

    init(tokenizerJSON root: JSONValue, what: String) throws(SearchError) {
        func corrupt(_ message: String) -> SearchError { SearchError(.corruptData, "\(what): \(message)") }
        guard let model = root["model"], let type = model["type"]?.stringValue, type == "Unigram" || type == "BPE" else {
            throw SearchError(
                .unsupportedFormat,
                "\(what): the model is \(root["model"]?["type"]?.stringValue ?? "missing"); only Unigram and BPE tokenizer.json files are read")
        }
        var pieces: [Piece] = []
        var scores: [Double] = []
        var trie = ByteTrie()
        var unknownID: Int32?
        if type == "Unigram" {
            guard case .array(let vocabulary)? = model["vocab"], !vocabulary.isEmpty else {
                throw corrupt("the Unigram model has no vocab")
            }
            pieces.reserveCapacity(vocabulary.count)
            for (i, entry) in vocabulary.enumerated() {
                guard case .array(let pair) = entry, pair.count == 2, let token = pair[0].stringValue,
                    let score = pair[1].doubleValue, !token.isEmpty
                else { throw corrupt("vocab entry \(i) is not [piece, score]") }
                let bytes = Array(token.utf8)
                pieces.append(Piece(text: bytes, score: Float(score), type: .normal))
                scores.append(score)
                trie.insert(bytes, value: Int32(i), replacing: true)
            }
            switch model["unk_id"] {
            case .none, .some(.null):
                throw SearchError(.unsupportedFormat, "\(what): a Unigram model without unk_id is not supported")
            case .some(let v):
                guard let id = v.intValue, id >= 0, id < pieces.count else { throw corrupt("unk_id is out of range") }
                unknownID = Int32(id)
            }
        } else {
            // BPE: vocab is {token: id}, ids 0..<count with none missing; merges rank the pairs.
            guard case .object(let vocabulary)? = model["vocab"], !vocabulary.isEmpty else {
                throw corrupt("the BPE model has no vocab")
            }
            for option in ["continuing_subword_prefix", "end_of_word_suffix"] {
                if let value = model[option], value != .null, value.stringValue != "" {
                    throw SearchError(.unsupportedFormat, "\(what): a BPE model with \(option) is not supported")
                }
            }
            if let dropout = model["dropout"], dropout != .null, dropout.doubleValue != 0 {
                throw SearchError(.unsupportedFormat, "\(what): BPE dropout is not supported (it makes tokenisation random)")
            }
            var texts = [[UInt8]?](repeating: nil, count: vocabulary.count)
            for (token, value) in vocabulary {
                guard let id = value.intValue, id >= 0, id < vocabulary.count, !token.isEmpty, texts[id] == nil else {
                    throw corrupt("vocab entry \"\(token)\" has a missing, repeated or out-of-range id")
                }
                texts[id] = Array(token.utf8)
            }
            for (i, text) in texts.enumerated() {
                // Every slot is filled: count distinct ids in 0..<count.
                pieces.append(Piece(text: text!, score: 0, type: .normal))
                trie.insert(text!, value: Int32(i), replacing: true)
            }
            if let name = model["unk_token"]?.stringValue {
                guard let id = trie.lookup(Array(name.utf8)) else { throw corrupt("unk_token \(name) is not in the vocabulary") }
                unknownID = id
            }
        }
        if let unknownID { pieces[Int(unknownID)].type = .unknown }
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
        var merges: BytePairMerges?
        if type == "BPE" {
            guard case .array(let list)? = model["merges"] else { throw corrupt("the BPE model has no merges") }
            merges = try BytePairMerges(
                merges: list, vocabulary: trie, byteFallback: byteIDs != nil,
                fuseUnknown: model["fuse_unk"]?.boolValue ?? false, ignoreMerges: model["ignore_merges"]?.boolValue ?? false,
                unknownID: unknownID, what: what)
        }
        var added: [TokenizerJSONPipeline.AddedToken] = []
        if case .array(let tokens)? = root["added_tokens"] {
            // Added tokens may lie past the model's vocabulary (NLLB's language codes): ids up to the
            // model's size plus the added count, each then a piece of its own.
            for token in tokens {
                if let id = token["id"]?.intValue, id >= pieces.count, id < pieces.count + tokens.count,
                    let content = token["content"]?.stringValue, !content.isEmpty
                {
                    while pieces.count < id { pieces.append(Piece(text: [], score: 0, type: .unused)) }
                    pieces.append(Piece(text: Array(content.utf8), score: 0, type: .normal))
                }
            }
            for token in tokens {
                guard let id = token["id"]?.intValue, id >= 0, id < pieces.count, let content = token["content"]?.stringValue,
                    !content.isEmpty
                else { throw corrupt("an added token has no valid id or content") }
                let special = token["special"]?.boolValue ?? false
                if special { pieces[id].type = .control }
                added.append(.init(
                    content: Array(content.utf8), id: Int32(id), special: special,
                    leftStrip: token["lstrip"]?.boolValue ?? false, rightStrip: token["rstrip"]?.boolValue ?? false,
                    normalized: token["normalized"]?.boolValue ?? !special))
            }
        }
        let normalizers = try TokenizerJSONPipeline.normalizers(root["normalizer"], what: what)
        let preTokenizers = try TokenizerJSONPipeline.preTokenizers(root["pre_tokenizer"], what: what)
        let decoders = try TokenizerJSONPipeline.decoders(root["decoder"], what: what)
        func specialID(_ names: [String]) -> Int32? {
            for name in names {
                if let token = added.first(where: { $0.content == Array(name.utf8) }) { return token.id }
            }
            return nil
        }
        let pipeline = TokenizerJSONPipeline(
            scores: scores, merges: merges, added: added, normalizers: normalizers, preTokenizers: preTokenizers,
            decoders: decoders)
        self.init(
            algorithm: type == "BPE" ? .bytePairEncoding : .unigram, pieces: pieces, trie: trie,
            unknownID: unknownID ?? -1, byteIDs: byteIDs,
            beginID: specialID(["<s>", "<bos>", "[CLS]"]), endID: specialID(["</s>", "<eos>", "[SEP]"]),
            paddingID: specialID(["<pad>", "[PAD]"]), json: pipeline)
    }
}
