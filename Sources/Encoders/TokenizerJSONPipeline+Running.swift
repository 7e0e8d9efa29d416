import SearchCore

extension TokenizerJSONPipeline {
    /// Tokenises `text` as the `tokenizers` library does: added tokens split
    /// out of the raw text, each remaining part normalised, cut by Metaspace,
    /// and each word segmented by the Unigram model.
    func encode(_ text: String, model: SentencePieceTokenizer) -> [(piece: [UInt8], id: Int32)] {
        var output: [(piece: [UInt8], id: Int32)] = []
        let bytes = Array(text.utf8)
        var segmentStart = 0
        var position = 0
        var pending: [(range: Range<Int>, token: AddedToken?)] = []
        while position < bytes.count {
            guard let match = addedTrie.longestPrefix(bytes[position...]) else {
                position += 1
                continue
            }
            let best = added[Int(match.value)]
            var before = segmentStart..<position
            if best.leftStrip { before = before.lowerBound..<trimmedEnd(bytes, before) }
            pending.append((before, nil))
            pending.append((position..<(position + best.content.count), best))
            position += best.content.count
            if best.rightStrip { position = skippedWhitespace(bytes, from: position) }
            segmentStart = position
        }
        pending.append((segmentStart..<bytes.count, nil))
        for (range, token) in pending {
            if let token {
                output.append((token.content, token.id))
            } else if !range.isEmpty {
                encodeSegment(Array(bytes[range]), atStart: range.lowerBound == 0, model: model, into: &output)
            }
        }
        return output
    }

    private func encodeSegment(
        _ raw: [UInt8], atStart: Bool, model: SentencePieceTokenizer, into output: inout [(piece: [UInt8], id: Int32)]
    ) {
        var text = raw
        for normalizer in normalizers { text = Self.apply(normalizer, to: text) }
        guard !text.isEmpty else { return }
        var words: [ArraySlice<UInt8>] = [text[...]]
        if let metaspace {
            var replaced = Self.replaceAll(text, [0x20], with: metaspace.replacement)
            let prepend =
                metaspace.prependScheme == "always" || (metaspace.prependScheme == "first" && atStart)
            if prepend && !replaced.starts(with: metaspace.replacement) { replaced = metaspace.replacement + replaced }
            words = metaspace.split ? Self.splitBefore(replaced, metaspace.replacement) : [replaced[...]]
        }
        for word in words where !word.isEmpty {
            unigram(Array(word), model: model, into: &output)
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
