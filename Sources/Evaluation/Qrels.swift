import SearchCore

/// Relevance judgements for many queries, keyed by query id: the content of
/// a TREC qrels file.
///
/// Query and document ids are strings, as in TREC files; neither may be
/// empty or contain whitespace. Queries keep the order in which they were
/// first judged, which is the order of an ``EvaluationReport``.
///
/// ```swift
/// var qrels = Qrels()
/// try qrels.setGrade(2, document: "doc7", query: "q1")
/// let fromFile = try Qrels(contentsOf: url)      // "q1 0 doc7 2" per line
/// ```
public struct Qrels: Equatable, Sendable {
    /// The judged queries, in the order they were first judged.
    public private(set) var queryIDs: [String] = []

    private var judgementsByQuery: [String: Judgements<String>] = [:]

    /// No judgements.
    public init() {}

    /// The judgements of `query`, or `nil` when it has none.
    public subscript(query: String) -> Judgements<String>? { judgementsByQuery[query] }

    /// Judges `document` for `query` with `grade`, replacing an earlier
    /// judgement of the same pair.
    ///
    /// - Throws: `SearchError.Code.invalidArgument` when an id is empty or
    ///   contains whitespace.
    public mutating func setGrade(_ grade: Int, document: String, query: String) throws(SearchError) {
        try Identifier.check(query, "query id")
        try Identifier.check(document, "document id")
        if judgementsByQuery[query] == nil {
            queryIDs.append(query)
            judgementsByQuery[query] = Judgements()
        }
        judgementsByQuery[query]!.setGrade(grade, for: document)
    }

    /// The number of (query, document) judgements.
    public var count: Int { judgementsByQuery.values.reduce(0) { $0 + $1.count } }

    /// True when nothing is judged.
    public var isEmpty: Bool { queryIDs.isEmpty }
}
