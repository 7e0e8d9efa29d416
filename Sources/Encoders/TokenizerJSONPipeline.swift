import SearchCore

/// What a `tokenizer.json` adds around its Unigram or BPE model: added
/// tokens, normalisers, the Metaspace pre-tokenizer and the decoders,
/// applied as the `tokenizers` library applies them.
struct TokenizerJSONPipeline: Sendable {
    struct AddedToken: Sendable {
        var content: [UInt8]
        var id: Int32
        var special: Bool
        var leftStrip: Bool, rightStrip: Bool
        /// Matched in the normalised text (`normalized`), not the raw text.
        var normalized = false
    }

    enum Normalizer: Sendable {
        case precompiled(PrecompiledCharsMap)
        case strip(left: Bool, right: Bool)
        /// Replaces `pattern` (a string), or runs of at least `minimumRun` of the character `pattern`.
        case replace(pattern: [UInt8], minimumRun: Int?, content: [UInt8])
        case lowercase
        case prepend([UInt8])
    }

    struct Metaspace: Sendable {
        var replacement: [UInt8]
        /// "always", "first" or "never".
        var prependScheme: String
        var split: Bool
    }

    /// What `Split` does with each match of its pattern (`behavior`).
    enum SplitBehavior: String, Sendable {
        case removed = "Removed", isolated = "Isolated", mergedWithPrevious = "MergedWithPrevious"
        case mergedWithNext = "MergedWithNext", contiguous = "Contiguous"
    }

    enum PreTokenizer: Sendable {
        case metaspace(Metaspace)
        /// `Split` on a literal string (Gemma's `" "`, merged with the previous piece).
        case split(pattern: [UInt8], behavior: SplitBehavior)
    }

    enum Decoder: Sendable {
        case metaspace(replacement: [UInt8], prepend: Bool)
        case replace(pattern: [UInt8], content: [UInt8])
        case byteFallback
        case fuse
        case strip(content: [UInt8], left: Int, right: Int)
    }

    /// The Unigram model's scores (empty for BPE).
    let scores: [Double]
    /// The lowest score in the vocabulary (the unknown score is 10 below it).
    let minimumScore: Double
    /// The BPE model's merges; nil for a Unigram model.
    let merges: BytePairMerges?
    let added: [AddedToken]
    /// Content → index in ``added``, of the tokens matched in the raw text and of those matched after normalisation.
    let rawTrie: ByteTrie, normalizedTrie: ByteTrie
    let normalizers: [Normalizer]
    /// The pre-tokenizers, in order (none: the normalised text is one word).
    let preTokenizers: [PreTokenizer]
    let decoders: [Decoder]

    init(
        scores: [Double], merges: BytePairMerges? = nil, added: [AddedToken], normalizers: [Normalizer],
        preTokenizers: [PreTokenizer], decoders: [Decoder]
    ) {
        self.scores = scores
        minimumScore = scores.min() ?? 0
        self.merges = merges
        self.added = added
        var raw = ByteTrie(), normalized = ByteTrie()
        for (i, token) in added.enumerated() {
            if token.normalized {
                normalized.insert(token.content, value: Int32(i))
            } else {
                raw.insert(token.content, value: Int32(i))
            }
        }
        rawTrie = raw
        normalizedTrie = normalized
        self.normalizers = normalizers
        self.preTokenizers = preTokenizers
        self.decoders = decoders
    }

    // MARK: Reading the file

    static func normalizers(_ value: JSONValue?, what: String) throws(SearchError) -> [Normalizer] {
        guard let value, value != .null else { return [] }
        func unsupported(_ detail: String) -> SearchError {
            SearchError(.unsupportedFormat, "\(what): normalizer \(detail) is not supported")
        }
        switch value["type"]?.stringValue {
        case "Sequence":
            guard case .array(let items)? = value["normalizers"] else { throw unsupported("Sequence without normalizers") }
            var result: [Normalizer] = []
            for item in items { result += try normalizers(item, what: what) }
            return result
        case "Precompiled":
            guard let text = value["precompiled_charsmap"]?.stringValue else { return [] }
            let blob = try PrecompiledCharsMap.base64(text)
            return blob.isEmpty ? [] : [.precompiled(try PrecompiledCharsMap(blob))]
        case "Strip":
            return [.strip(left: value["strip_left"]?.boolValue ?? false, right: value["strip_right"]?.boolValue ?? false)]
        case "Lowercase":
            return [.lowercase]
        case "Prepend":
            return [.prepend(Array((value["prepend"]?.stringValue ?? "").utf8))]
        case "Replace":
            let content = Array((value["content"]?.stringValue ?? "").utf8)
            if let string = value["pattern"]?["String"]?.stringValue {
                guard !string.isEmpty else { throw unsupported("Replace with an empty pattern") }
                return [.replace(pattern: Array(string.utf8), minimumRun: nil, content: content)]
            }
            if let regex = value["pattern"]?["Regex"]?.stringValue, let (character, run) = repeatedCharacter(regex) {
                return [.replace(pattern: character, minimumRun: run, content: content)]
            }
            throw unsupported("Replace with pattern \(value["pattern"].map { "\($0)" } ?? "none")")
        case let type:
            throw unsupported(type ?? "without a type")
        }
    }

    /// `c{n,}` → (c, n) and `c+` → (c, 1), for one literal character `c`
    /// (escaped or not); nil for any other regex.
    static func repeatedCharacter(_ regex: String) -> ([UInt8], Int)? {
        var body = Array(regex.unicodeScalars)
        let run: Int
        if body.last == "+" {
            run = 1
            body.removeLast()
        } else if body.count >= 4, body.last == "}", body[body.count - 2] == ",", let open = body.lastIndex(of: "{"),
            let n = Int(String(String.UnicodeScalarView(body[(open + 1)..<(body.count - 2)]))), n >= 1
        {
            run = n
            body.removeSubrange(open...)
        } else {
            return nil
        }
        let metacharacters = "\\.[](){}*+?|^$".unicodeScalars
        if body.count == 2, body[0] == "\\", metacharacters.contains(body[1]) || body[1] == " " {
            body.removeFirst()
        } else if body.count != 1 || metacharacters.contains(body[0]) {
            return nil
        }
        return (Array(String(body[0]).utf8), run)
    }

    static func preTokenizers(_ value: JSONValue?, what: String) throws(SearchError) -> [PreTokenizer] {
        guard let value, value != .null else { return [] }
        func unsupported(_ detail: String) -> SearchError {
            SearchError(.unsupportedFormat, "\(what): pre-tokenizer \(detail) is not supported (Metaspace, Split on a string)")
        }
        switch value["type"]?.stringValue {
        case "Metaspace":
            let replacement = Array((value["replacement"]?.stringValue ?? "\u{2581}").utf8)
            var scheme = value["prepend_scheme"]?.stringValue
            if scheme == nil { scheme = (value["add_prefix_space"]?.boolValue ?? true) ? "always" : "never" }
            return [.metaspace(
                Metaspace(replacement: replacement, prependScheme: scheme!, split: value["split"]?.boolValue ?? true))]
        case "Split":
            guard let pattern = value["pattern"]?["String"]?.stringValue else { throw unsupported("Split on a regex") }
            guard value["invert"]?.boolValue != true else { throw unsupported("Split with invert") }
            let name = value["behavior"]?.stringValue ?? ""
            guard let behavior = SplitBehavior(rawValue: name) else { throw unsupported("Split with behavior \(name)") }
            return [.split(pattern: Array(pattern.utf8), behavior: behavior)]
        case "Sequence":
            guard case .array(let items)? = value["pretokenizers"] else { throw unsupported("Sequence without pretokenizers") }
            var result: [PreTokenizer] = []
            for item in items { result += try preTokenizers(item, what: what) }
            return result
        case let type:
            throw unsupported(type ?? "without a type")
        }
    }

    static func decoders(_ value: JSONValue?, what: String) throws(SearchError) -> [Decoder] {
        guard let value, value != .null else { return [] }
        switch value["type"]?.stringValue {
        case "Sequence":
            guard case .array(let items)? = value["decoders"] else { return [] }
            var result: [Decoder] = []
            for item in items { result += try decoders(item, what: what) }
            return result
        case "Metaspace":
            var scheme = value["prepend_scheme"]?.stringValue
            if scheme == nil { scheme = (value["add_prefix_space"]?.boolValue ?? true) ? "always" : "never" }
            return [.metaspace(
                replacement: Array((value["replacement"]?.stringValue ?? "\u{2581}").utf8), prepend: scheme != "never")]
        case "Replace":
            guard let pattern = value["pattern"]?["String"]?.stringValue else { break }
            return [.replace(pattern: Array(pattern.utf8), content: Array((value["content"]?.stringValue ?? "").utf8))]
        case "ByteFallback": return [.byteFallback]
        case "Fuse": return [.fuse]
        case "Strip":
            return [.strip(
                content: Array((value["content"]?.stringValue ?? " ").utf8), left: value["start"]?.intValue ?? 0,
                right: value["stop"]?.intValue ?? 0)]
        default: break
        }
        throw SearchError(.unsupportedFormat, "\(what): decoder \(value["type"]?.stringValue ?? "?") is not supported")
    }
}

