import SearchCore

extension TokenizerJSONPipeline {
    /// Tokenises `text` as the `tokenizers` library does: added tokens
    /// (those not `normalized`) split out of the raw text, each remaining part
    /// normalised, the `normalized` added tokens split out of that, each
    /// remaining part cut by Metaspace and each word segmented by the model.
    func encode(_ text: String, model: SentencePieceTokenizer) -> [(piece: [UInt8], id: Int32)] {
        var output: [(piece: [UInt8], id: Int32)] = []
        let bytes = Array(text.utf8)
        for (range, token) in split(bytes, on: rawTrie) {
            if let token {
                output.append((token.content, token.id))
                continue
            }
            var normalized = Array(bytes[range])
            for normalizer in normalizers { normalized = Self.apply(normalizer, to: normalized) }
            for (part, token) in split(normalized, on: normalizedTrie) {
                if let token {
                    output.append((token.content, token.id))
                } else {
                    encodeSegment(
                        Array(normalized[part]), atStart: range.lowerBound == 0 && part.lowerBound == 0, model: model,
                        into: &output)
                }
            }
        }
        return output
    }

    /// `bytes` cut around the added tokens of `trie` (leftmost, longest
    /// first), their `lstrip`/`rstrip` taking the whitespace beside them;
    /// empty parts left out.
    private func split(_ bytes: [UInt8], on trie: ByteTrie) -> [(range: Range<Int>, token: AddedToken?)] {
        guard !trie.isEmpty else { return bytes.isEmpty ? [] : [(0..<bytes.count, nil)] }
        var parts: [(range: Range<Int>, token: AddedToken?)] = []
        var segmentStart = 0
        var position = 0
        while position < bytes.count {
            guard let match = trie.longestPrefix(bytes[position...]) else {
                position += 1
                continue
            }
            let best = added[Int(match.value)]
            var before = segmentStart..<position
            if best.leftStrip { before = before.lowerBound..<trimmedEnd(bytes, before) }
            if !before.isEmpty { parts.append((before, nil)) }
            parts.append((position..<(position + best.content.count), best))
            position += best.content.count
            if best.rightStrip { position = skippedWhitespace(bytes, from: position) }
            segmentStart = position
        }
        if segmentStart < bytes.count { parts.append((segmentStart..<bytes.count, nil)) }
        return parts
    }

    private func encodeSegment(
        _ text: [UInt8], atStart: Bool, model: SentencePieceTokenizer, into output: inout [(piece: [UInt8], id: Int32)]
    ) {
        guard !text.isEmpty else { return }
        // Each word with whether it starts the segment (Metaspace's "first" scheme prepends there only).
        var words: [(text: [UInt8], atStart: Bool)] = [(text, atStart)]
        for step in preTokenizers {
            var next: [(text: [UInt8], atStart: Bool)] = []
            for (i, word) in words.enumerated() {
                let first = word.atStart && i == 0
                switch step {
                case .metaspace(let metaspace):
                    var replaced = Self.replaceAll(word.text, [0x20], with: metaspace.replacement)
                    let prepend = metaspace.prependScheme == "always" || (metaspace.prependScheme == "first" && first)
                    if prepend && !replaced.starts(with: metaspace.replacement) { replaced = metaspace.replacement + replaced }
                    let parts = metaspace.split ? Self.splitBefore(replaced, metaspace.replacement) : [replaced[...]]
                    for (j, part) in parts.enumerated() { next.append((Array(part), first && j == 0)) }
                case .split(let pattern, let behavior):
                    for (j, part) in Self.split(word.text, pattern, behavior).enumerated() {
                        next.append((Array(word.text[part]), first && j == 0))
                    }
                }
            }
            words = next
        }
        for (word, _) in words where !word.isEmpty {
            if let merges {
                bytePairEncode(word, merges: merges, model: model, into: &output)
            } else {
                unigram(word, model: model, into: &output)
            }
        }
    }

    /// The `tokenizers` Unigram model on one word: the optimised Viterbi
    /// search in double precision over every vocabulary entry, unknown
    /// characters scored `min(score) − 10` and fused, then byte fallback for
    /// an unknown token whose bytes all have `<0xNN>` pieces.
    private func unigram(_ s: [UInt8], model: SentencePieceTokenizer, into output: inout [(piece: [UInt8], id: Int32)]) {
        let n = s.count
        let unknownScore = minimumScore - 10
        var bestScore = [Double](repeating: 0, count: n + 1)
        var startsAt = [Int](repeating: -1, count: n + 1)
        var bestID = [Int32](repeating: -1, count: n + 1)
        var start = 0
        while start < n {
            let scoreHere = bestScore[start]
            let characterLength = min(utf8Length(s[start]), n - start)
            var hasSingle = false
            var node: Int32 = 0
            var end = start
            while end < n {
                guard let next = model.trie.child(node, s[end]) else { break }
                node = next
                end += 1
                let id = model.trie.value(node)
                if id < 0 { continue }
                let candidate = scores[Int(id)] + scoreHere
                if startsAt[end] == -1 || candidate > bestScore[end] {
                    bestScore[end] = candidate
                    startsAt[end] = start
                    bestID[end] = id
                }
                if end - start == characterLength { hasSingle = true }
            }
            if !hasSingle {
                let end = start + characterLength
                let candidate = unknownScore + scoreHere
                if startsAt[end] == -1 || candidate > bestScore[end] {
                    bestScore[end] = candidate
                    startsAt[end] = start
                    bestID[end] = model.unknownID
                }
            }
            start += characterLength
        }
        var tokens: [ArraySlice<UInt8>] = []
        var end = n
        var fusedStart: Int?, fusedEnd = 0
        while end > 0 {
            let begin = startsAt[end]
            if bestID[end] == model.unknownID {
                if fusedStart == nil { fusedEnd = end }
                fusedStart = begin
            } else {
                if let f = fusedStart {
                    tokens.append(s[f..<fusedEnd])
                    fusedStart = nil
                }
                tokens.append(s[begin..<end])
            }
            end = begin
        }
        if let f = fusedStart { tokens.append(s[f..<fusedEnd]) }
        for token in tokens.reversed() {
            if let id = model.trie.lookup(token) {
                output.append((Array(token), id))
            } else if let byteIDs = model.byteIDs, token.allSatisfy({ byteIDs[Int($0)] >= 0 }) {
                for b in token { output.append((Array(SentencePieceTokenizer.bytePiece(b).utf8), byteIDs[Int(b)])) }
            } else {
                output.append((Array(token), model.unknownID))
            }
        }
    }

    /// The text of `ids` through the file's decoders, joined.
    func decode(_ ids: [Int32], model: SentencePieceTokenizer) -> String {
        var tokens: [[UInt8]] = ids.map { model.pieces[Int($0)].text }
        for decoder in decoders {
            switch decoder {
            case .metaspace(let replacement, let prepend):
                tokens = tokens.enumerated().map { i, token in
                    Self.replaceAll(token, replacement, with: i == 0 && prepend ? [] : [0x20])
                }
            case .replace(let pattern, let content):
                tokens = tokens.map { Self.replaceAll($0, pattern, with: content) }
            case .byteFallback:
                var result: [[UInt8]] = []
                var bytes: [UInt8] = []
                func flush() {
                    guard !bytes.isEmpty else { return }
                    if String(validating: bytes, as: UTF8.self) != nil {
                        result.append(bytes)
                    } else {
                        for _ in bytes { result.append([0xEF, 0xBF, 0xBD]) }
                    }
                    bytes.removeAll()
                }
                for token in tokens {
                    if let b = SentencePieceTokenizer.byteValue(token) {
                        bytes.append(b)
                    } else {
                        flush()
                        result.append(token)
                    }
                }
                flush()
                tokens = result
            case .fuse:
                tokens = [tokens.flatMap { $0 }]
            case .strip(let content, let left, let right):
                tokens = tokens.map { token in
                    var t = token[...]
                    for _ in 0..<left where t.starts(with: content) { t.removeFirst(content.count) }
                    for _ in 0..<right where t.count >= content.count && t.suffix(content.count).elementsEqual(content) {
                        t.removeLast(content.count)
                    }
                    return Array(t)
                }
            }
        }
        return String(decoding: tokens.flatMap { $0 }, as: UTF8.self)
    }

    // MARK: Normalisers

    static func apply(_ normalizer: Normalizer, to text: [UInt8]) -> [UInt8] {
        switch normalizer {
        case .precompiled(let map):
            // As `tokenizers` applies the map: per grapheme cluster, a cluster
            // under 6 bytes with a rule for a prefix becomes that (shortest)
            // rule's replacement whole; otherwise each character is replaced
            // by its own rule or kept.
            var output: [UInt8] = []
            output.reserveCapacity(text.count)
            for grapheme in String(decoding: text, as: UTF8.self) {
                let bytes = Array(grapheme.utf8)
                if bytes.count < 6, let match = map.shortestMatch(bytes[...]) {
                    output += match.replacement
                    continue
                }
                for scalar in grapheme.unicodeScalars {
                    let part = Array(String(scalar).utf8)
                    if let match = map.shortestMatch(part[...]) {
                        output += match.replacement
                    } else {
                        output += part
                    }
                }
            }
            return output
        case .strip(let left, let right):
            var scalars = Substring(String(decoding: text, as: UTF8.self)).unicodeScalars
            if left { while let f = scalars.first, f.properties.isWhitespace { scalars.removeFirst() } }
            if right { while let l = scalars.last, l.properties.isWhitespace { scalars.removeLast() } }
            return Array(String(scalars).utf8)
        case .replace(let pattern, let minimumRun, let content):
            guard let minimumRun else { return replaceAll(text, pattern, with: content) }
            var output: [UInt8] = []
            var i = 0
            while i < text.count {
                var run = 0
                var j = i
                while j < text.count, text[j...].starts(with: pattern) {
                    run += 1
                    j += pattern.count
                }
                if run >= minimumRun {
                    output += content
                    i = j
                } else if run > 0 {
                    output += text[i..<j]
                    i = j
                } else {
                    output.append(text[i])
                    i += 1
                }
            }
            return output
        case .lowercase:
            return Array(String(decoding: text, as: UTF8.self).lowercased().utf8)
        case .prepend(let prefix):
            return text.isEmpty ? text : prefix + text
        }
    }

    static func replaceAll(_ text: [UInt8], _ pattern: [UInt8], with content: [UInt8]) -> [UInt8] {
        guard !pattern.isEmpty else { return text }
        var output: [UInt8] = []
        output.reserveCapacity(text.count)
        var i = 0
        while i < text.count {
            if text[i...].starts(with: pattern) {
                output += content
                i += pattern.count
            } else {
                output.append(text[i])
                i += 1
            }
        }
        return output
    }

    /// `Split` on the literal `pattern` (non-overlapping matches, left to
    /// right), each match treated as `behavior` says, as `tokenizers` splits;
    /// empty parts left out.
    static func split(_ text: [UInt8], _ pattern: [UInt8], _ behavior: SplitBehavior) -> [Range<Int>] {
        guard !pattern.isEmpty else { return text.isEmpty ? [] : [0..<text.count] }
        var pieces: [(range: Range<Int>, isMatch: Bool)] = []
        var start = 0, i = 0
        while i + pattern.count <= text.count {
            if text[i...].starts(with: pattern) {
                if i > start { pieces.append((start..<i, false)) }
                pieces.append((i..<(i + pattern.count), true))
                i += pattern.count
                start = i
            } else {
                i += 1
            }
        }
        if start < text.count { pieces.append((start..<text.count, false)) }
        var result: [Range<Int>] = []
        var previousMatch = false
        switch behavior {
        case .removed:
            result = pieces.filter { !$0.isMatch }.map(\.range)
        case .isolated:
            result = pieces.map(\.range)
        case .mergedWithPrevious:
            for piece in pieces {
                if piece.isMatch, !previousMatch, let last = result.last {
                    result[result.count - 1] = last.lowerBound..<piece.range.upperBound
                } else {
                    result.append(piece.range)
                }
                previousMatch = piece.isMatch
            }
        case .mergedWithNext:
            for piece in pieces.reversed() {
                if piece.isMatch, !previousMatch, let last = result.last {
                    result[result.count - 1] = piece.range.lowerBound..<last.upperBound
                } else {
                    result.append(piece.range)
                }
                previousMatch = piece.isMatch
            }
            result.reverse()
        case .contiguous:
            for piece in pieces {
                if piece.isMatch == previousMatch, let last = result.last {
                    result[result.count - 1] = last.lowerBound..<piece.range.upperBound
                } else {
                    result.append(piece.range)
                }
                previousMatch = piece.isMatch
            }
        }
        return result.filter { !$0.isEmpty }
    }

    /// Splits before every occurrence of `delimiter` (the delimiter starts the next part).
    static func splitBefore(_ text: [UInt8], _ delimiter: [UInt8]) -> [ArraySlice<UInt8>] {
        var parts: [ArraySlice<UInt8>] = []
        var start = 0
        var i = 0
        while i < text.count {
            if i > start, text[i...].starts(with: delimiter) {
                parts.append(text[start..<i])
                start = i
            }
            i += text[i...].starts(with: delimiter) ? delimiter.count : 1
        }
        if start < text.count { parts.append(text[start...]) }
        return parts
    }

    private func trimmedEnd(_ bytes: [UInt8], _ range: Range<Int>) -> Int {
        let text = String(decoding: bytes[range], as: UTF8.self)
        var scalars = Substring(text).unicodeScalars
        while let l = scalars.last, l.properties.isWhitespace { scalars.removeLast() }
        return range.lowerBound + String(scalars).utf8.count
    }

    private func skippedWhitespace(_ bytes: [UInt8], from position: Int) -> Int {
        let text = String(decoding: bytes[position...], as: UTF8.self)
        var scalars = Substring(text).unicodeScalars
        var skipped = 0
        while let f = scalars.first, f.properties.isWhitespace {
            skipped += String(f).utf8.count
            scalars.removeFirst()
        }
        return position + skipped
    }
}
