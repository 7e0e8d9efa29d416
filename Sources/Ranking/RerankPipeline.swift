import SearchCore

/// Stages run one after another: each takes the previous one's output.
///
/// ```swift
/// let pipeline = RerankPipeline([
///     learned, NearDuplicateCollapse(items: table), MaximalMarginalRelevance(count: 50, items: table),
///     FilterStage(DenyList(hidden)), PinStage([promo: 0]),
/// ])
/// ```
///
/// The stages are existentials, called once per request each, never per candidate.
public struct RerankPipeline: Reranker {
    /// The stages, in order.
    public var stages: [any Reranker]

    /// A pipeline.
    public init(_ stages: [any Reranker]) { self.stages = stages }

    /// Runs every stage in order.
    public func rerank(_ candidates: [RankedCandidate], context: RankingContext) throws(SearchError) -> [RankedCandidate] {
        var current = candidates
        for stage in stages { current = try stage.rerank(current, context: context) }
        return current
    }
}
