import SearchCore

/// One result of a keyword search.
public struct LexicalHit: Sendable, Hashable {
    /// The host's identifier of the document (the collection's item id).
    public var id: VectorID
    /// The BM25 score: per field, the sum over matched query terms of
    /// Lucene's BM25, times the field's weight, summed over fields.
    public var score: Float
    /// Per field name, the query terms (as analysed: stems, phrases, prefix
    /// expansions) the document matched, in query order.
    public var matchedTerms: [String: [String]]

    /// A hit.
    public init(id: VectorID, score: Float, matchedTerms: [String: [String]]) {
        self.id = id
        self.score = score
        self.matchedTerms = matchedTerms
    }
}
