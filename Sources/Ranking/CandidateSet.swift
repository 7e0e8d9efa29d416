import SearchCore

/// One retriever's view of a candidate: its score there and its rank (1 = best).
public struct SourceScore: Sendable, Hashable {
    /// The retriever's score; larger is better.
    public var score: Double
    /// The 1-based position in that retriever's list.
    public var rank: Int

    /// A score at a rank.
    public init(score: Double, rank: Int) {
        self.score = score
        self.rank = rank
    }
}

/// Candidates gathered from several retrievers (image ANN, text ANN, a
/// two-tower user retriever, a popularity list...), each remembered with its
/// score and rank in every list it appeared in, ready to be fused.
///
/// ```swift
/// var set = CandidateSet()
/// try set.add(source: "image", hits: imageHits, metric: .cosine)
/// try set.add(source: "text", scores: textResults)
/// let fused = set.fused(.reciprocalRank())
/// ```
public struct CandidateSet: Sendable {
    /// The retrievers added so far, in order.
    public private(set) var sources: [String] = []
    /// Every distinct identifier, in the order first seen.
    public private(set) var ids: [VectorID] = []
    /// For each source, its list best first.
    public private(set) var lists: [String: [(id: VectorID, score: Double)]] = [:]
    private var scoresByID: [VectorID: [String: SourceScore]] = [:]

    /// An empty set.
    public init() {}

    /// The number of distinct candidates.
    public var count: Int { ids.count }

    /// A candidate's score and rank in each source it appeared in.
    public func sourceScores(of id: VectorID) -> [String: SourceScore] { scoresByID[id] ?? [:] }

    /// Adds one retriever's results, `(id, score)` with larger scores better,
    /// in any order: they are ranked by score (ties by the smaller id).
    ///
    /// - Throws: ``SearchError/Code/duplicateID`` when `source` was already
    ///   added or an id repeats within the list; ``SearchError/Code/invalidArgument``
    ///   for a NaN score.
    public mutating func add(source: String, scores: [(id: VectorID, score: Double)]) throws(SearchError) {
        guard lists[source] == nil else {
            throw SearchError(.duplicateID, "retrieval source `\(source)` was already added to this candidate set")
        }
        var seen = Set<VectorID>()
        for entry in scores {
            guard !entry.score.isNaN else {
                throw SearchError(.invalidArgument, "retrieval source `\(source)` scored id \(entry.id) as NaN")
            }
            guard seen.insert(entry.id).inserted else {
                throw SearchError(.duplicateID, "retrieval source `\(source)` lists id \(entry.id) twice")
            }
        }
        let ordered = scores.sorted { $0.score > $1.score || ($0.score == $1.score && $0.id < $1.id) }
        sources.append(source)
        lists[source] = ordered
        for (position, entry) in ordered.enumerated() {
            if scoresByID[entry.id] == nil {
                ids.append(entry.id)
                scoresByID[entry.id] = [:]
            }
            scoresByID[entry.id]![source] = SourceScore(score: entry.score, rank: position + 1)
        }
    }

    /// Adds an index's hits, scoring each with `metric`'s similarity (larger is better).
    public mutating func add(source: String, hits: [SearchHit], metric: Metric) throws(SearchError) {
        try add(source: source, scores: hits.map { (id: $0.id, score: Double($0.score(metric))) })
    }
}
