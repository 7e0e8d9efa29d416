import SearchCore

extension LexicalIndex {
    /// Opens `bytes` as a keyword segment file and runs every search path
    /// over its terms (words, a phrase, a prefix; block-max and exhaustive
    /// top-k; matched terms): for fuzzing and for tools that inspect a file.
    ///
    /// With `verifyingChecksum` false the checksum is not checked, so the
    /// structural checks and the bounds-checked decoding meet every input.
    ///
    /// - Returns: the number of hits the block-max search found, or nil when
    ///   the segment was refused (with the reason in the error).
    /// - Throws: the ``SearchCore/SearchError`` opening raised.
    public static func checkSegment(_ bytes: [UInt8], verifyingChecksum: Bool = true) throws(SearchError) -> Int {
        let segment = try LexicalSegment(SegmentBytes(copying: bytes), name: "segment", verifyChecksum: verifyingChecksum)
        let fields = (0..<segment.fieldCount).map { LexicalField(name: "f\($0)", analyzer: .verbatim) }
        let analyzers = try fields.map { (field) throws(SearchError) in try TextAnalyzer(field.analyzer) }
        let searcher = LexicalSearcher(
            views: [SegmentView(segment: segment, live: nil)], fields: fields, analyzers: analyzers,
            prefixAnalyzers: analyzers, bm25: BM25Parameters())
        var words: [String] = []
        for t in 0..<min(segment.termCount, 64) { words.append(segment.term(t)) }
        let query = LexicalQuery(clauses: [
            .text(words.joined(separator: " ")), .phrase(words.prefix(3).joined(separator: " ")),
            .prefix(String(words.first?.prefix(1) ?? "a")),
        ])
        let clauses = searcher.clauses(for: query)
        let top = searcher.topK(clauses, k: 10, filter: NoFilter())
        precondition(top.count <= 10, "at most k hits")
        _ = searcher.hits(top, clauses: clauses)
        _ = searcher.exhaustiveTopK(clauses, k: 10, filter: NoFilter())
        return top.count
    }
}
