import SearchCore

/// The merges of a `tokenizer.json` BPE model (Sennrich et al. 2016, as the
/// `tokenizers` library runs them): each adjacent pair of ids that may merge,
/// with its rank (its line in `merges`; lower merges first) and the id of the
/// merged token.
struct BytePairMerges: Sendable {
    /// (left id, right id) packed as `left << 32 | right` → (rank, merged id).
    let table: [UInt64: (rank: Int32, id: Int32)]
    /// `byte_fallback`: a character missing from the vocabulary becomes its
    /// UTF-8 bytes as `<0xNN>` tokens when all of them exist.
    let byteFallback: Bool
    /// `fuse_unk`: unknown characters in a row become one unknown token.
    let fuseUnknown: Bool
    /// `ignore_merges`: a word that is itself a token is not split.
    let ignoreMerges: Bool
    /// The unknown token's id (`unk_token`), nil when the model has none
    /// (an unknown character is then dropped, as `tokenizers` drops it).
    let unknownID: Int32?

    static func key(_ left: Int32, _ right: Int32) -> UInt64 { UInt64(UInt32(left)) << 32 | UInt64(UInt32(right)) }

    /// Reads `merges`: `"left right"` strings (older files) or `[left, right]`
    /// pairs (`tokenizers` 0.20 and later).
    ///
    /// - Throws: ``SearchCore/SearchError/Code/corruptData`` for a malformed
    ///   merge, or one whose parts or result are not in the vocabulary.
    init(
        merges: [JSONValue], vocabulary: ByteTrie, byteFallback: Bool, fuseUnknown: Bool, ignoreMerges: Bool,
        unknownID: Int32?, what: String
    ) throws(SearchError) {
        var table: [UInt64: (rank: Int32, id: Int32)] = [:]
        table.reserveCapacity(merges.count)
        for (rank, merge) in merges.enumerated() {
            let parts: [String]
            if let line = merge.stringValue {
                parts = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            } else if let pair = merge.arrayValue {
                parts = pair.compactMap(\.stringValue)
                guard parts.count == pair.count else { throw SearchError(.corruptData, "\(what): merge \(rank) is not two strings") }
            } else {
                throw SearchError(.corruptData, "\(what): merge \(rank) is neither \"a b\" nor [a, b]")
            }
            guard parts.count == 2 else { throw SearchError(.corruptData, "\(what): merge \(rank) does not have two parts") }
            let left = Array(parts[0].utf8), right = Array(parts[1].utf8)
            guard let a = vocabulary.lookup(left), let b = vocabulary.lookup(right) else {
                throw SearchError(.corruptData, "\(what): merge \(rank) (\(parts[0]) \(parts[1])) names a token not in the vocabulary")
            }
            guard let merged = vocabulary.lookup(left + right) else {
                throw SearchError(.corruptData, "\(what): merge \(rank) makes \(parts[0] + parts[1]), which is not in the vocabulary")
            }
            // A pair listed twice keeps its first (lowest) rank, as `tokenizers` builds its map.
            if table[Self.key(a, b)] == nil { table[Self.key(a, b)] = (Int32(rank), merged) }
        }
        self.table = table
        self.byteFallback = byteFallback
        self.fuseUnknown = fuseUnknown
        self.ignoreMerges = ignoreMerges
        self.unknownID = unknownID
    }
}

extension TokenizerJSONPipeline {
    /// The `tokenizers` BPE model on one word: each character its token (or,
    /// missing from the vocabulary, its `<0xNN>` bytes under byte fallback,
    /// else the unknown token, fused with unknown neighbours under
    /// `fuse_unk`), then the adjacent pair of lowest rank merged, leftmost
    /// first, until no pair can merge.
    ///
    /// - Complexity: O(*n* log *n*) for a word of *n* characters (a heap of
    ///   candidate merges; stale entries are skipped when popped).
    func bytePairEncode(
        _ s: [UInt8], merges: BytePairMerges, model: SentencePieceTokenizer,
        into output: inout [(piece: [UInt8], id: Int32)]
    ) {
        if merges.ignoreMerges, let id = model.trie.lookup(s) {
            output.append((s, id))
            return
        }
        // The word's symbols, then a doubly linked list over them as they merge.
        var ids: [Int32] = []
        ids.reserveCapacity(s.count)
        var unknownPending = false
        func flushUnknown() {
            if unknownPending, let id = merges.unknownID { ids.append(id) }
            unknownPending = false
        }
        var i = 0
        while i < s.count {
            let end = min(i + utf8Length(s[i]), s.count)
            if let id = model.trie.lookup(s[i..<end]) {
                flushUnknown()
                ids.append(id)
            } else if merges.byteFallback, let byteIDs = model.byteIDs, s[i..<end].allSatisfy({ byteIDs[Int($0)] >= 0 }) {
                // As `tokenizers`: the bytes go in at once, before a pending unknown token.
                for b in s[i..<end] { ids.append(byteIDs[Int(b)]) }
            } else if unknownPending, merges.fuseUnknown {
                // fused into the pending unknown token
            } else {
                flushUnknown()
                unknownPending = true
            }
            i = end
        }
        flushUnknown()
        let n = ids.count
        var previous = Array((-1)..<(n - 1)), next = Array(1...Swift.max(n, 1))
        if n > 0 { next[n - 1] = -1 }
        var alive = [Bool](repeating: true, count: n)
        var heap = MergeHeap()
        for p in 0..<Swift.max(n - 1, 0) {
            if let m = merges.table[BytePairMerges.key(ids[p], ids[p + 1])] { heap.push(.init(rank: m.rank, position: p, id: m.id)) }
        }
        while let top = heap.pop() {
            let p = top.position
            guard alive[p], next[p] >= 0 else { continue }
            let q = next[p]
            guard let m = merges.table[BytePairMerges.key(ids[p], ids[q])], m.id == top.id else { continue }
            ids[p] = top.id
            alive[q] = false
            next[p] = next[q]
            if next[q] >= 0 { previous[next[q]] = p }
            if previous[p] >= 0, let left = merges.table[BytePairMerges.key(ids[previous[p]], ids[p])] {
                heap.push(.init(rank: left.rank, position: previous[p], id: left.id))
            }
            if next[p] >= 0, let right = merges.table[BytePairMerges.key(ids[p], ids[next[p]])] {
                heap.push(.init(rank: right.rank, position: p, id: right.id))
            }
        }
        for p in 0..<n where alive[p] {
            let id = ids[p]
            output.append((model.pieces[Int(id)].text, id))
        }
    }
}

/// A binary min-heap of candidate merges ordered by rank, then position (leftmost first).
private struct MergeHeap {
    struct Entry {
        var rank: Int32
        var position: Int
        var id: Int32

        func precedes(_ other: Entry) -> Bool {
            rank != other.rank ? rank < other.rank : position < other.position
        }
    }

    private var entries: [Entry] = []

    mutating func push(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].precedes(entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let first = entries.first else { return nil }
        let last = entries.removeLast()
        if entries.isEmpty { return first }
        entries[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var best = parent
            if left < entries.count, entries[left].precedes(entries[best]) { best = left }
            if right < entries.count, entries[right].precedes(entries[best]) { best = right }
            if best == parent { break }
            entries.swapAt(parent, best)
            parent = best
        }
        return first
    }
}
