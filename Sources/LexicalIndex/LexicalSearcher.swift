import SearchCore

/// Which documents of a segment are live: bit `d % 8` of byte `d / 8` set
/// when document `d` is; nil when all are.
struct SegmentView {
    let segment: LexicalSegment
    let live: [UInt8]?

    @inline(__always)
    func isLive(_ doc: UInt32) -> Bool {
        guard let live else { return true }
        return live[Int(doc >> 3)] & (1 << (doc & 7)) != 0
    }
}

/// One scored part of a query in one field: a term or a phrase, with its
/// BM25 weight (field weight × idf) computed from the whole index's statistics.
struct ScoredClause {
    enum Kind {
        case term(String)
        /// Terms with their offsets from the phrase's first word.
        case phrase([(term: String, offset: Int)])
    }
    var field: Int
    var kind: Kind
    var idfWeight: Float
    /// What ``LexicalHit/matchedTerms`` reports for it.
    var display: String
    /// For a term: its entry in each segment (nil where absent), looked up once per search.
    var infos: [TermInfo?] = []
    /// How many times the term was repeated in the query (its weight is that many times its idf).
    var repeats = 1
}

/// A read-only view of the index for one search: segments, live sets, analysis and BM25 constants.
struct LexicalSearcher {
    let views: [SegmentView]
    let fields: [LexicalField]
    let analyzers: [TextAnalyzer]
    let prefixAnalyzers: [TextAnalyzer]
    let bm25: BM25Parameters

    /// Per field: documents with the field, and the BM25 length constants.
    private var fieldDocuments: [Int] = []
    private var c0: Float = 0
    private var c1: [Float] = []

    init(views: [SegmentView], fields: [LexicalField], analyzers: [TextAnalyzer], prefixAnalyzers: [TextAnalyzer], bm25: BM25Parameters) {
        self.views = views
        self.fields = fields
        self.analyzers = analyzers
        self.prefixAnalyzers = prefixAnalyzers
        self.bm25 = bm25
        c0 = bm25.k1 * (1 - bm25.b)
        for f in fields.indices {
            var documents = 0
            var total: UInt64 = 0
            for view in views {
                documents += view.segment.fieldDocuments[f]
                total += view.segment.fieldTotals[f]
            }
            fieldDocuments.append(documents)
            let average = documents == 0 ? 1 : Double(total) / Double(documents)
            c1.append(Float(Double(bm25.k1 * bm25.b) / average))
        }
    }

    /// The document frequency of `term` in `field` over every segment.
    func documentFrequency(field: Int, term: String) -> Int {
        termInfos(field: field, term: term).reduce(0) { $0 + ($1?.documentFrequency ?? 0) }
    }

    /// The entries of `term` in `field`, per segment.
    func termInfos(field: Int, term: String) -> [TermInfo?] {
        views.map { $0.segment.lookup(field: field, term: term)?.info }
    }

    func idfWeight(field: Int, documentFrequency n: Int) -> Float {
        let idf = BM25Parameters.idf(documentFrequency: n, documentCount: fieldDocuments[field])
        return Float(idf) * fields[field].weight
    }

    /// The query's clauses, per field; identical terms of a field are one clause with their weights added.
    func clauses(for query: LexicalQuery) -> [ScoredClause] {
        var out: [ScoredClause] = []
        var termClause: [String: Int] = [:]  // "field\u{0}term" → index in out
        func addTerm(_ f: Int, _ term: String) {
            let key = "\(f)\u{0}\(term)"
            if let existing = termClause[key] {
                // A repeated term counts again, as a repeated clause does in Lucene.
                out[existing].idfWeight += out[existing].idfWeight / Float(out[existing].repeats)
                out[existing].repeats += 1
                return
            }
            let infos = termInfos(field: f, term: term)
            let n = infos.reduce(0) { $0 + ($1?.documentFrequency ?? 0) }
            guard n > 0 else { return }
            let weight = idfWeight(field: f, documentFrequency: n)
            termClause[key] = out.count
            out.append(ScoredClause(field: f, kind: .term(term), idfWeight: weight, display: term, infos: infos))
        }
        for clause in query.clauses {
            for f in fields.indices where fieldDocuments[f] > 0 && fields[f].weight > 0 {
                switch clause {
                case .text(let text):
                    for term in analyzers[f].terms(text) { addTerm(f, term) }
                case .phrase(let text):
                    let tokens = analyzers[f].tokens(text)
                    if tokens.count == 1 {
                        addTerm(f, tokens[0].term)
                    } else if tokens.count > 1 {
                        var idf: Float = 0
                        var missing = false
                        for token in tokens {
                            let n = documentFrequency(field: f, term: token.term)
                            if n == 0 { missing = true }
                            idf += idfWeight(field: f, documentFrequency: max(n, 1))
                        }
                        guard !missing else { continue }
                        let first = tokens[0].position
                        out.append(
                            ScoredClause(
                                field: f, kind: .phrase(tokens.map { ($0.term, $0.position - first) }), idfWeight: idf,
                                display: tokens.map(\.term).joined(separator: " ")))
                    }
                case .prefix(let text):
                    let tokens = prefixAnalyzers[f].terms(text)
                    guard let last = tokens.last else { continue }
                    for term in tokens.dropLast() { addTerm(f, term) }
                    var frequency: [String: Int] = [:]
                    for view in views {
                        for i in view.segment.entries(field: f, prefix: last) {
                            if let info = view.segment.entry(i) { frequency[view.segment.term(i), default: 0] += info.documentFrequency }
                        }
                    }
                    let chosen = frequency.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                        .prefix(LexicalQuery.maximumExpansions)
                    for (term, _) in chosen { addTerm(f, term) }
                }
            }
        }
        return out
    }

    /// The cursors of `clauses` in segment `s` (clauses absent from it have none).
    func cursors(_ clauses: [ScoredClause], segment s: Int) -> [PostingCursor] {
        let segment = views[s].segment
        var out: [PostingCursor] = []
        for (c, clause) in clauses.enumerated() {
            switch clause.kind {
            case .term:
                guard let info = clause.infos[s] else { continue }
                out.append(
                    PostingCursor(clause: c, segment: segment, info: info, idfWeight: clause.idfWeight, c0: c0, c1: c1[clause.field]))
            case .phrase(let terms):
                if let cursor = phraseCursor(clause: c, field: clause.field, terms: terms, idfWeight: clause.idfWeight, segment: segment) {
                    out.append(cursor)
                }
            }
        }
        return out
    }

    /// Gathers a phrase's matches in `segment` (documents and phrase
    /// frequencies) by intersecting its terms' lists and checking positions.
    private func phraseCursor(
        clause: Int, field: Int, terms: [(term: String, offset: Int)], idfWeight: Float, segment: LexicalSegment
    ) -> PostingCursor? {
        var parts: [PostingCursor] = []
        for (term, _) in terms {
            guard let (_, info) = segment.lookup(field: field, term: term) else { return nil }
            parts.append(PostingCursor(clause: 0, segment: segment, info: info, idfWeight: 1, c0: c0, c1: c1[field]))
        }
        var docs: [UInt32] = []
        var tfs: [UInt32] = []
        var first: [UInt32] = []
        var other: [UInt32] = []
        var target: UInt32 = 0
        outer: while true {
            for part in parts {
                part.advance(to: target)
                if part.doc == PostingCursor.end { break outer }
                if part.doc > target {
                    target = part.doc
                    continue outer
                }
            }
            // Every part is on `target`: count the starts where each word sits at its offset.
            first.removeAll(keepingCapacity: true)
            parts[0].positions(into: &first)
            var starts = Set(first.map { Int($0) - terms[0].offset })
            for j in 1..<parts.count where !starts.isEmpty {
                other.removeAll(keepingCapacity: true)
                parts[j].positions(into: &other)
                starts.formIntersection(other.map { Int($0) - terms[j].offset })
            }
            if !starts.isEmpty {
                docs.append(target)
                tfs.append(UInt32(starts.count))
            }
            target += 1
        }
        guard !docs.isEmpty else { return nil }
        return PostingCursor(clause: clause, docs: docs, tfs: tfs, segment: segment, field: field, idfWeight: idfWeight, c0: c0, c1: c1[field])
    }
}
