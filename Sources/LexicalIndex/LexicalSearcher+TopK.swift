import SearchCore

/// How ``LexicalSearcher/topK(_:k:filter:strategy:)`` walks a segment's postings.
enum TopKStrategy {
    /// Term at a time when the query's postings in a segment number at most
    /// its documents ÷ ``termAtATimeDivisor``: there, scoring every posting
    /// into an array beats block-max WAND's per-document bookkeeping, which
    /// only pays off when it can skip most of long lists.
    case automatic
    case blockMaxWAND
    case termAtATime

    static let termAtATimeDivisor = 1
}

/// The k best (score, order) pairs seen: a min-heap whose root is the worst
/// kept. Of equal scores the earlier document (lower segment, then lower
/// document number) is better, so results are deterministic.
struct TopKHeap {
    struct Entry {
        var score: Float
        var segment: Int32
        var doc: UInt32
        /// Whether `self` ranks below `other`.
        @inline(__always)
        func isWorse(than other: Entry) -> Bool {
            if score != other.score { return score < other.score }
            if segment != other.segment { return segment > other.segment }
            return doc > other.doc
        }
    }
    let k: Int
    private(set) var entries: [Entry] = []

    init(k: Int) {
        self.k = k
        entries.reserveCapacity(min(k, 1 << 16))
    }

    var isFull: Bool { entries.count >= k }
    /// Scores not above this cannot enter (−∞ until full).
    var threshold: Float { isFull ? entries[0].score : -.infinity }

    mutating func offer(_ entry: Entry) {
        if entries.count < k {
            entries.append(entry)
            var i = entries.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard entries[i].isWorse(than: entries[parent]) else { break }
                entries.swapAt(i, parent)
                i = parent
            }
        } else if entries[0].isWorse(than: entry) {
            entries[0] = entry
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var worst = i
                if l < entries.count, entries[l].isWorse(than: entries[worst]) { worst = l }
                if r < entries.count, entries[r].isWorse(than: entries[worst]) { worst = r }
                if worst == i { break }
                entries.swapAt(i, worst)
                i = worst
            }
        }
    }

    /// Best first.
    func sorted() -> [Entry] { entries.sorted { $1.isWorse(than: $0) } }
}

extension LexicalSearcher {
    /// The top `k` documents by block-max WAND (Ding & Suel, "Faster top-k
    /// document retrieval using block-max indexes", SIGIR 2011).
    ///
    /// Cursors are kept sorted by document. The pivot is the first cursor at
    /// which the sum of list-wide score bounds exceeds the heap's threshold;
    /// no document before the pivot's can enter. The block bounds of the
    /// cursors up to the pivot then decide: if even their sum cannot beat the
    /// threshold, every document up to the nearest block end is skipped
    /// without decoding; otherwise the pivot document is scored fully.
    /// Scores are summed in clause order, as ``exhaustiveTopK(_:k:filter:)``
    /// does, so the two agree bit for bit.
    ///
    /// - Complexity: O(postings) at worst; typically a fraction of the
    ///   postings of the query's terms, fewer as k shrinks.
    func topK<Filter: SearchFilter>(
        _ clauses: [ScoredClause], k: Int, filter: Filter, strategy: TopKStrategy = .automatic
    ) -> [TopKHeap.Entry] {
        var heap = TopKHeap(k: k)
        var contributions = [Float](repeating: 0, count: clauses.count)
        var accumulators: [Float] = []
        for s in views.indices {
            let view = views[s]
            var cursors = cursors(clauses, segment: s)
            cursors.removeAll { $0.doc == PostingCursor.end }
            guard !cursors.isEmpty else { continue }
            let postings = cursors.reduce(0) { $0 + $1.postingCount }
            let termAtATime: Bool
            switch strategy {
            case .automatic: termAtATime = postings <= view.segment.documentCount / TopKStrategy.termAtATimeDivisor
            case .blockMaxWAND: termAtATime = false
            case .termAtATime: termAtATime = true
            }
            if termAtATime {
                scoreTermAtATime(cursors, view: view, segment: s, heap: &heap, accumulators: &accumulators, filter: filter)
                continue
            }
            // The loop reads cursors through an unsafe buffer, and as unowned(unsafe)
            // references, so moving and calling them need not retain: the array
            // keeps every one alive for the whole call.
            cursors.withUnsafeMutableBufferPointer { cs in
                blockMaxWAND(cs, view: view, segment: s, heap: &heap, contributions: &contributions, filter: filter)
            }
        }
        return heap.sorted()
    }

    /// Scores every posting of `cursors` into accumulators (clause by clause,
    /// the order block-max WAND sums in) and offers each matched document.
    private func scoreTermAtATime<Filter: SearchFilter>(
        _ cursors: [PostingCursor], view: SegmentView, segment s: Int, heap: inout TopKHeap, accumulators: inout [Float],
        filter: Filter
    ) {
        let d = view.segment.documentCount
        if accumulators.count < d { accumulators = [Float](repeating: 0, count: d) }
        var first = UInt32.max, last: UInt32 = 0
        accumulators.withUnsafeMutableBufferPointer { scores in
            let base = scores.baseAddress!
            for cursor in cursors.sorted(by: { $0.clause < $1.clause }) {
                let (a, b) = cursor.scoreRemaining(into: base)
                first = min(first, a)
                last = max(last, b)
            }
            guard first <= last else { return }
            // Scores are positive exactly for matched documents (idf > 0, tf ≥ 1, weight > 0),
            // so a document can enter only with a score above max(threshold, 0). Sixteen
            // scores at a time are compared with that cut; most groups have none above it.
            typealias Group = SIMD16<Float>
            var doc = Int(first)
            let end = Int(last) + 1
            var cut = max(heap.threshold, 0)
            while doc < end {
                if doc + Group.scalarCount <= end {
                    let group = UnsafeRawPointer(base + doc).loadUnaligned(as: Group.self)
                    if !any(group .> Group(repeating: cut)) {
                        doc += Group.scalarCount
                        continue
                    }
                }
                let groupEnd = min(end, doc + Group.scalarCount)
                while doc < groupEnd {
                    let score = base[doc]
                    if score > cut, view.isLive(UInt32(doc)), filter.allows(view.segment.id(doc)) {
                        heap.offer(.init(score: score, segment: Int32(s), doc: UInt32(doc)))
                        cut = max(heap.threshold, 0)
                    }
                    doc += 1
                }
            }
            (base + Int(first)).update(repeating: 0, count: end - Int(first))
        }
    }

    /// One segment's block-max WAND over its cursors (see ``topK(_:k:filter:)``).
    @inline(__always)
    private func blockMaxWAND<Filter: SearchFilter>(
        _ cursors: UnsafeMutableBufferPointer<PostingCursor>, view: SegmentView, segment s: Int, heap: inout TopKHeap,
        contributions: inout [Float], filter: Filter
    ) {
        let n = cursors.count
        while true {
            // Insertion sort: cursors move a little between rounds.
            for i in 1..<n {
                unowned(unsafe) let c = cursors[i]
                let doc = c.doc
                var j = i
                while j > 0, cursors[j - 1].doc > doc {
                    cursors.swapAt(j, j - 1)
                    j -= 1
                }
            }
            let threshold = heap.threshold
            var bound: Float = 0
            var p = -1
            for i in 0..<n {
                unowned(unsafe) let c = cursors[i]
                if c.doc == PostingCursor.end { break }
                bound += c.maxScore
                if bound > threshold {
                    p = i
                    break
                }
            }
            guard p >= 0 else { break }
            let pivot = cursors[p].doc
            while p + 1 < n, cursors[p + 1].doc == pivot { p += 1 }
            // Block-max check over the cursors up to the pivot.
            var blockBound: Float = 0
            var nearestEnd = PostingCursor.end
            for i in 0...p {
                unowned(unsafe) let c = cursors[i]
                let (b, last) = c.shallowAdvance(to: pivot)
                blockBound += b
                nearestEnd = min(nearestEnd, last)
            }
            if blockBound <= threshold {
                var target = nearestEnd == PostingCursor.end ? PostingCursor.end : nearestEnd + 1
                if p + 1 < n { target = min(target, cursors[p + 1].doc) }
                for i in 0...p {
                    unowned(unsafe) let c = cursors[i]
                    if c.doc < target { c.advance(to: target) }
                }
                continue
            }
            if cursors[0].doc == pivot {
                for i in 0...p {
                    unowned(unsafe) let c = cursors[i]
                    contributions[c.clause] = c.score
                }
                var score: Float = 0
                for c in contributions.indices { score += contributions[c] }
                for i in 0...p {
                    unowned(unsafe) let c = cursors[i]
                    contributions[c.clause] = 0
                    c.next()
                }
                if score > threshold, view.isLive(pivot), filter.allows(view.segment.id(Int(pivot))) {
                    heap.offer(.init(score: score, segment: Int32(s), doc: pivot))
                }
            } else {
                for i in 0..<p {
                    unowned(unsafe) let c = cursors[i]
                    if c.doc < pivot { c.advance(to: pivot) }
                }
            }
        }
    }

    /// The top `k` by scoring every posting of every clause (term at a
    /// time): the oracle the block-max search is tested against.
    func exhaustiveTopK<Filter: SearchFilter>(_ clauses: [ScoredClause], k: Int, filter: Filter) -> [TopKHeap.Entry] {
        var heap = TopKHeap(k: k)
        for s in views.indices {
            let view = views[s]
            var scores = [Float](repeating: 0, count: view.segment.documentCount)
            var matched = [Bool](repeating: false, count: view.segment.documentCount)
            // Clause order: the same summation order as the block-max search.
            for cursor in cursors(clauses, segment: s).sorted(by: { $0.clause < $1.clause }) {
                while cursor.doc != PostingCursor.end {
                    scores[Int(cursor.doc)] += cursor.score
                    matched[Int(cursor.doc)] = true
                    cursor.next()
                }
            }
            for d in scores.indices where matched[d] {
                let doc = UInt32(d)
                if view.isLive(doc), filter.allows(view.segment.id(d)) {
                    heap.offer(.init(score: scores[d], segment: Int32(s), doc: doc))
                }
            }
        }
        return heap.sorted()
    }

    /// The hits for `entries`, with the clauses each document matched.
    func hits(_ entries: [TopKHeap.Entry], clauses: [ScoredClause]) -> [LexicalHit] {
        var matched = [[String: [String]]](repeating: [:], count: entries.count)
        let bySegment = Dictionary(grouping: entries.indices, by: { entries[$0].segment })
        for (s, indices) in bySegment {
            let ordered = indices.sorted { entries[$0].doc < entries[$1].doc }
            let cursors = cursors(clauses, segment: Int(s)).sorted { $0.clause < $1.clause }
            for i in ordered {
                let doc = entries[i].doc
                for cursor in cursors {
                    cursor.advance(to: doc)
                    if cursor.doc == doc {
                        let clause = clauses[cursor.clause]
                        matched[i][fields[clause.field].name, default: []].append(clause.display)
                    }
                }
            }
        }
        return entries.indices.map { i in
            LexicalHit(id: views[Int(entries[i].segment)].segment.id(Int(entries[i].doc)), score: entries[i].score, matchedTerms: matched[i])
        }
    }
}
