import Foundation

/// One candidate on its way through ranking.
public struct RankedCandidate: Sendable, Hashable {
    /// The item's identifier.
    public var id: VectorID
    /// The current score; larger is better. Each stage may rewrite it.
    public var score: Double
    /// Named per-stage scores, kept so a result can explain itself
    /// (`"image"`, `"text"`, `"fusion"`, `"gbdt"`, ...).
    public var explanation: [String: Double]

    /// A candidate with its current score and the per-stage scores so far.
    public init(id: VectorID, score: Double, explanation: [String: Double] = [:]) {
        self.id = id
        self.score = score
        self.explanation = explanation
    }
}

/// What a reranker may know about the query beyond the candidates.
public struct RankingContext: Sendable {
    /// The user the results are for, if known.
    public var userID: String?
    /// The query's embedding, if there is one.
    public var queryEmbedding: Embedding?
    /// The time to rank as of (for time-decayed signals).
    public var now: Date

    /// A context for ranking on behalf of `userID` at `now`.
    public init(userID: String? = nil, queryEmbedding: Embedding? = nil, now: Date = Date()) {
        self.userID = userID
        self.queryEmbedding = queryEmbedding
        self.now = now
    }
}

/// Reorders candidates: a learned ranker, a diversity stage, business rules.
///
/// Stages compose: each takes the previous stage's output, best first, and
/// returns its own, best first. A stage may drop candidates (near-duplicate
/// collapse, truncation) but never invents ones it was not given.
public protocol Reranker: Sendable {
    /// Returns `candidates` reordered (and possibly rescored or truncated), best first.
    func rerank(_ candidates: [RankedCandidate], context: RankingContext) throws(SearchError) -> [RankedCandidate]
}
