import SearchCore

/// One retrieved document of a ``Run``: its id and the score the system gave it.
public struct RunEntry: Hashable, Sendable {
    /// The document id.
    public var document: String
    /// The system's score; larger is better. Never NaN in a ``Run``.
    public var score: Double

    /// An entry for `document` with `score`.
    public init(document: String, score: Double) {
        self.document = document
        self.score = score
    }
}

/// The results a system returned for many queries, with scores: the content
/// of a TREC run file.
///
/// A run is ranked the way trec_eval ranks it: by score, descending, ties
/// broken by document id, *descending*, comparing the ids' UTF-8 bytes (C's
/// `strcmp`). So `doc9` ranks above `doc10` at equal scores. The rank column
/// of a run file is not used for ordering, exactly as in trec_eval. To
/// evaluate a ranking whose order you already have, give descending scores
/// (for example, minus the position).
///
/// A run never holds a NaN score, an id with whitespace, or one document
/// twice for a query: see ``Measure`` for the edge-case policy.
///
/// ```swift
/// var run = try Run(name: "hnsw-m16")
/// for (query, hits) in results {
///     for hit in hits {
///         try run.append(document: String(hit.id), score: Double(hit.score(.cosine)), query: query)
///     }
/// }
/// ```
public struct Run: Equatable, Sendable {
    /// The run tag: the last field of every line of a run file.
    public internal(set) var name: String

    /// The queries answered, in the order their first entry was appended.
    public private(set) var queryIDs: [String] = []

    private var entriesByQuery: [String: [RunEntry]] = [:]
    private var documentsByQuery: [String: Set<String>] = [:]

    /// An empty run called `name`.
    ///
    /// - Throws: `SearchError.Code.invalidArgument` when `name` is empty or
    ///   contains whitespace.
    public init(name: String = "run") throws(SearchError) {
        try Identifier.check(name, "run name")
        self.name = name
    }

    /// Adds `document` with `score` to the results of `query`.
    ///
    /// - Throws: `SearchError.Code.invalidArgument` when `score` is NaN or
    ///   an id is empty or contains whitespace;
    ///   `SearchError.Code.duplicateID` when `query` already lists
    ///   `document`.
    public mutating func append(document: String, score: Double, query: String) throws(SearchError) {
        try Identifier.check(query, "query id")
        try Identifier.check(document, "document id")
        guard !score.isNaN else {
            throw SearchError(.invalidArgument, "document \(document) of query \(query) has a NaN score")
        }
        guard documentsByQuery[query, default: []].insert(document).inserted else {
            throw SearchError(
                .duplicateID,
                "query \(query) already lists document \(document); a run lists each document once per query")
        }
        if entriesByQuery[query] == nil { queryIDs.append(query) }
        entriesByQuery[query, default: []].append(RunEntry(document: document, score: score))
    }

    /// The entries of `query` in the order they were appended; empty when
    /// the run does not answer it.
    public func entries(for query: String) -> [RunEntry] { entriesByQuery[query] ?? [] }

    /// The documents of `query` in trec_eval's order: score descending, then
    /// document id descending by UTF-8 bytes.
    ///
    /// - Complexity: O(n log n) for the query's n entries.
    public func ranking(for query: String) -> [String] {
        rankedEntries(for: query).map(\.document)
    }

    /// The entries of `query` in trec_eval's order.
    public func rankedEntries(for query: String) -> [RunEntry] {
        entries(for: query).sorted(by: Run.ranksAbove)
    }

    /// The number of entries over all queries.
    public var count: Int { entriesByQuery.values.reduce(0) { $0 + $1.count } }

    /// trec_eval's order: higher score first, then the larger id by bytes.
    static func ranksAbove(_ lhs: RunEntry, _ rhs: RunEntry) -> Bool {
        if lhs.score != rhs.score { return lhs.score > rhs.score }
        return rhs.document.utf8.lexicographicallyPrecedes(lhs.document.utf8)
    }

    /// Two runs are equal when they have the same name, the same queries in
    /// the same order, and the same entries per query in any order.
    public static func == (lhs: Run, rhs: Run) -> Bool {
        lhs.name == rhs.name && lhs.queryIDs == rhs.queryIDs
            && lhs.queryIDs.allSatisfy { lhs.rankedEntries(for: $0) == rhs.rankedEntries(for: $0) }
    }
}
