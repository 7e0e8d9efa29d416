import SearchCore

extension SentencePieceTokenizer {
    /// SentencePiece's unknown penalty: an unknown character scores the lowest
    /// normal piece's score minus this.
    static let unknownPenalty: Float = 10

    /// Unigram segmentation as SentencePiece's optimised encoder does it:
    /// the best path ending at each byte position, positions advanced one
    /// UTF-8 character at a time, every known piece starting there a
    /// candidate; where no piece covers the next character alone, it is an
    /// unknown piece scored `minimumScore − 10`. Ties keep the first
    /// candidate (the one starting earliest). A user-defined piece scores
    /// `length × maximumScore − 0.1`; sums are taken in double precision and
    /// stored in single, as the library does.
    func unigramSegments(_ s: [UInt8]) -> [(piece: ArraySlice<UInt8>, id: Int32)] {
        let n = s.count
        if n == 0 { return [] }
        var bestScore = [Float](repeating: 0, count: n + 1)
        var startsAt = [Int](repeating: -1, count: n + 1)
        var bestID = [Int32](repeating: -1, count: n + 1)
        let unknownScore = minimumScore - Self.unknownPenalty
        var start = 0
        while start < n {
            let scoreHere = bestScore[start]
            var hasSingle = false
            let characterLength = min(utf8Length(s[start]), n - start)
            var node: Int32 = 0
            var end = start
            while end < n {
                guard let next = trie.child(node, s[end]) else { break }
                node = next
                end += 1
                let id = trie.value(node)
                if id < 0 { continue }
                let piece = pieces[Int(id)]
                if piece.type == .unused { continue }
                let length = end - start
                let score =
                    piece.type == .userDefined ? Double(Float(length) * maximumScore) - 0.1 : Double(piece.score)
                let candidate = score + Double(scoreHere)
                if startsAt[end] == -1 || candidate > Double(bestScore[end]) {
                    bestScore[end] = Float(candidate)
                    startsAt[end] = start
                    bestID[end] = id
                }
                if length == characterLength { hasSingle = true }
            }
            if !hasSingle {
                let end = start + characterLength
                let candidate = unknownScore + scoreHere
                if startsAt[end] == -1 || candidate > bestScore[end] {
                    bestScore[end] = candidate
                    startsAt[end] = start
                    bestID[end] = unknownID
                }
            }
            start += characterLength
        }
        var result: [(piece: ArraySlice<UInt8>, id: Int32)] = []
        var end = n
        while end > 0 {
            let begin = startsAt[end]
            result.append((s[begin..<end], bestID[end]))
            end = begin
        }
        result.reverse()
        return result
    }

    /// BPE segmentation as SentencePiece does it: characters (user-defined
    /// symbols whole and frozen), then, while any adjacent pair forms a known
    /// piece, merge the pair whose piece scores highest (leftmost on ties);
    /// a merged piece of type unused is split back into the pieces it was
    /// made of.
    func bytePairSegments(_ s: [UInt8]) -> [(piece: ArraySlice<UInt8>, id: Int32)] {
        let n = s.count
        if n == 0 { return [] }
        struct Symbol {
            var start: Int, end: Int
            var previous: Int, next: Int
            var frozen: Bool
        }
        var symbols: [Symbol] = []
        symbols.reserveCapacity(n)
        var position = 0
        let userDefined = normalizer?.userDefined ?? ByteTrie()
        while position < n {
            var length = min(utf8Length(s[position]), n - position)
            var frozen = false
            if let match = userDefined.longestPrefix(s[position...]) {
                length = match.length
                frozen = true
            }
            let index = symbols.count
            symbols.append(
                Symbol(start: position, end: position + length, previous: index - 1, next: position + length < n ? index + 1 : -1,
                       frozen: frozen))
            position += length
        }
        var heap = PairHeap()
        var unusedMerges: [[UInt8]: (ArraySlice<UInt8>, ArraySlice<UInt8>)] = [:]
        func consider(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0, !symbols[left].frozen, !symbols[right].frozen else { return }
            let merged = s[symbols[left].start..<symbols[right].end]
            guard let id = trie.lookup(merged) else { return }
            heap.push(.init(score: pieces[Int(id)].score, left: left, right: right, size: merged.count))
            if pieces[Int(id)].type == .unused {
                unusedMerges[Array(merged)] = (
                    s[symbols[left].start..<symbols[left].end], s[symbols[right].start..<symbols[right].end]
                )
            }
        }
        for i in 1..<symbols.count { consider(i - 1, i) }
        while let top = heap.pop() {
            let l = symbols[top.left], r = symbols[top.right]
            guard l.end > l.start, r.end > r.start, (l.end - l.start) + (r.end - r.start) == top.size else { continue }
            symbols[top.left].end = r.end
            symbols[top.left].next = r.next
            if r.next >= 0 { symbols[r.next].previous = top.left }
            symbols[top.right].end = symbols[top.right].start
            consider(symbols[top.left].previous, top.left)
            consider(top.left, symbols[top.left].next)
        }
        var result: [(piece: ArraySlice<UInt8>, id: Int32)] = []
        func resegment(_ piece: ArraySlice<UInt8>) {
            let id = pieceToID(piece)
            if pieces[Int(id)].type == .unused, let (left, right) = unusedMerges[Array(piece)] {
                resegment(left)
                resegment(right)
            } else {
                result.append((piece, id))
            }
        }
        var index = 0
        while index != -1 {
            resegment(s[symbols[index].start..<symbols[index].end])
            index = symbols[index].next
        }
        return result
    }
}

extension SentencePieceTokenizer {
    /// A piece's id as SentencePiece's `PieceToId`: control, unknown and
    /// byte pieces first, then the others, else the unknown id.
    func pieceToID(_ piece: ArraySlice<UInt8>) -> Int32 {
        reserved.lookup(piece) ?? trie.lookup(piece) ?? unknownID
    }

    /// Word models: SentencePiece's `SplitIntoWords` (a new word at each
    /// `▁`, or after it with whitespace as a suffix; runs of `▁` one word
    /// when whitespace-only pieces are allowed), each word looked up whole.
    func wordSegments(_ s: [UInt8]) -> [(piece: ArraySlice<UInt8>, id: Int32)] {
        var words: [Range<Int>] = []
        let space = SentencePieceNormalizer.space
        var begin = 0
        var inSpaces = false
        if whitespaceAsSuffix {
            if !s.isEmpty { words.append(0..<0) }
            while begin < s.count {
                let length = min(utf8Length(s[begin]), s.count - begin)
                let isSpace = s[begin..<(begin + length)].elementsEqual(space)
                if isSpace {
                    inSpaces = true
                } else if inSpaces {
                    if whitespaceOnlyPieces { words.append(begin..<begin) }
                    inSpaces = false
                }
                words[words.count - 1] = words[words.count - 1].lowerBound..<(begin + length)
                begin += length
                if begin < s.count && isSpace && !whitespaceOnlyPieces { words.append(begin..<begin) }
            }
        } else {
            while begin < s.count {
                let length = min(utf8Length(s[begin]), s.count - begin)
                let isSpace = s[begin..<(begin + length)].elementsEqual(space)
                if begin == 0 || (isSpace && (!inSpaces || !whitespaceOnlyPieces)) {
                    words.append(begin..<begin)
                    inSpaces = true
                }
                if inSpaces && !isSpace { inSpaces = false }
                words[words.count - 1] = words[words.count - 1].lowerBound..<(begin + length)
                begin += length
            }
        }
        return words.map { (s[$0], pieceToID(s[$0])) }
    }

    /// Character models: one piece per UTF-8 character (a user-defined symbol whole), each looked up.
    func characterSegments(_ s: [UInt8]) -> [(piece: ArraySlice<UInt8>, id: Int32)] {
        var result: [(piece: ArraySlice<UInt8>, id: Int32)] = []
        let userDefined = normalizer?.userDefined ?? ByteTrie()
        var position = 0
        while position < s.count {
            let length = userDefined.longestPrefix(s[position...])?.length ?? min(utf8Length(s[position]), s.count - position)
            let piece = s[position..<(position + length)]
            result.append((piece, pieceToID(piece)))
            position += length
        }
        return result
    }
}

/// A binary max-heap of candidate merges: higher score first, then the
/// leftmost pair (the order of SentencePiece's agenda).
struct PairHeap {
    struct Pair {
        var score: Float
        var left: Int, right: Int
        var size: Int
    }

    private var items: [Pair] = []

    @inline(__always)
    private static func before(_ a: Pair, _ b: Pair) -> Bool {
        a.score > b.score || (a.score == b.score && a.left < b.left)
    }

    mutating func push(_ pair: Pair) {
        items.append(pair)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.before(items[child], items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Pair? {
        guard let last = items.popLast() else { return nil }
        guard !items.isEmpty else { return last }
        let top = items[0]
        items[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var best = parent
            if left < items.count, Self.before(items[left], items[best]) { best = left }
            if right < items.count, Self.before(items[right], items[best]) { best = right }
            if best == parent { break }
            items.swapAt(parent, best)
            parent = best
        }
        return top
    }
}
