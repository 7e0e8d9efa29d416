import Foundation
import SearchCore

/// Reorders candidates by a learned model's score over the feature pipeline's rows.
///
/// ```swift
/// let ranker = LearnedRanker(model: gbdt, features: pipeline, userVectors: vectors)
/// let ranked = try ranker.rerank(fused, context: RankingContext(userID: "ana", now: Date()))
/// ```
public struct LearnedRanker<Model: ScoringModel>: Reranker {
    /// The model.
    public var model: Model
    /// The features it reads.
    public var features: FeaturePipeline
    /// Where user vectors come from when ranking through ``rerank(_:context:)``.
    public var userVectors: UserVectorStore?
    /// The key the model's score is kept under in each candidate's explanation.
    public var name: String

    /// A ranker; precondition: the model reads as many features as the pipeline writes.
    public init(model: Model, features: FeaturePipeline, userVectors: UserVectorStore? = nil, name: String = "learned") {
        precondition(model.featureCount == features.featureCount,
            "the model reads \(model.featureCount) features; the pipeline writes \(features.featureCount)")
        self.model = model
        self.features = features
        self.userVectors = userVectors
        self.name = name
    }

    /// Reranks with features computed for `context` (user from `userID`, its
    /// vector from ``userVectors``, the query's embedding).
    public func rerank(_ candidates: [RankedCandidate], context: RankingContext) throws(SearchError) -> [RankedCandidate] {
        let user = context.userID.map { UserID($0) }
        let featureContext = FeatureContext(
            user: user, userVector: user.flatMap { userVectors?.vector(for: $0) },
            queryVector: context.queryEmbedding?.values, now: context.now)
        return try rerank(candidates, features: featureContext)
    }

    /// Reranks with an explicit feature context; ties keep the incoming order.
    public func rerank(_ candidates: [RankedCandidate], features context: FeatureContext) throws(SearchError)
        -> [RankedCandidate]
    {
        guard !candidates.isEmpty else { return [] }
        let rows = features.rows(for: candidates, context: context)
        var scores = [Double](repeating: 0, count: candidates.count)
        try rows.withUnsafeBufferPointer { (r) throws(SearchError) in
            try scores.withUnsafeMutableBufferPointer { (s) throws(SearchError) in try model.scores(r, into: s) }
        }
        var out = candidates
        for i in out.indices {
            out[i].explanation[name] = scores[i]
            out[i].score = scores[i]
        }
        let order = out.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        return order.map { out[$0] }
    }
}
