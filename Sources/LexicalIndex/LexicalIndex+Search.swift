import SearchCore

extension LexicalIndex {
    /// The `k` documents with the highest BM25 scores for `query`, best first.
    ///
    /// `query` is parsed as ``LexicalQuery/init(parsing:)`` describes: words,
    /// `"quoted phrases"` and `prefix*`. A document matches when it contains
    /// at least one of them; when a filter is given, exactly
    /// `min(k, matching documents it allows)` hits come back.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/invalidArgument`` when `k` < 1.
    /// - Complexity: block-max WAND over the postings of the query's terms;
    ///   O(postings) at worst. The first search after writes also encodes the
    ///   head (O(head postings)).
    public func search(_ query: String, k: Int, filter: (any SearchFilter)? = nil) throws(SearchError) -> [LexicalHit] {
        if let filter {
            return try search(LexicalQuery(parsing: query), k: k, filter: filter)
        }
        return try search(LexicalQuery(parsing: query), k: k, filter: NoFilter())
    }

    /// As ``search(_:k:filter:)``, for a parsed query and a filter type the search is specialised for.
    public func search<Filter: SearchFilter>(_ query: LexicalQuery, k: Int, filter: Filter) throws(SearchError) -> [LexicalHit] {
        guard k >= 1 else { throw SearchError(.invalidArgument, "k must be at least 1; got \(k)") }
        let searcher = try snapshot()
        let clauses = searcher.clauses(for: query)
        guard !clauses.isEmpty else { return [] }
        return searcher.hits(searcher.topK(clauses, k: k, filter: filter), clauses: clauses)
    }

    /// The same search by scoring every posting: the oracle the block-max search is tested against.
    package func exhaustiveSearch<Filter: SearchFilter>(_ query: LexicalQuery, k: Int, filter: Filter) throws(SearchError) -> [LexicalHit] {
        let searcher = try snapshot()
        let clauses = searcher.clauses(for: query)
        guard !clauses.isEmpty else { return [] }
        return searcher.hits(searcher.exhaustiveTopK(clauses, k: k, filter: filter), clauses: clauses)
    }

    /// The current segments and head, for one search.
    func snapshot() throws(SearchError) -> LexicalSearcher {
        let views = try state.withLock { (state) throws(SearchError) -> [SegmentView] in
            var views: [SegmentView] = []
            for (s, segment) in state.segments.enumerated() {
                views.append(SegmentView(segment: segment, live: state.manifest.segments[s].live))
            }
            if !state.head.isEmpty {
                if state.headSegment == nil {
                    state.headSegment = try LexicalSegment(SegmentBytes(copying: state.head.encode()), name: "head")
                }
                views.append(SegmentView(segment: state.headSegment!, live: state.headLive))
            }
            return views
        }
        return LexicalSearcher(
            views: views, fields: configuration.fields, analyzers: analyzers, prefixAnalyzers: prefixAnalyzers,
            bm25: configuration.bm25)
    }
}
