/// The columns ``FeaturePipeline`` writes, in order. Raw values are column
/// positions and never change; host features follow the last one.
public enum RankingFeature: Int, Sendable, CaseIterable, CustomStringConvertible {
    /// The candidate's incoming score (retrieval or fusion).
    case retrievalScore = 0
    /// 1 / (1 + position) in the incoming order.
    case reciprocalRank = 1
    /// Smoothed clicks per impression.
    case clickRate = 2
    /// Smoothed saves per impression.
    case saveRate = 3
    /// Smoothed hides per impression.
    case hideRate = 4
    /// Smoothed purchases per impression.
    case purchaseRate = 5
    /// log(1 + decayed impressions): how much evidence the rates rest on.
    case logImpressions = 6
    /// cos(user vector, item); 0 for a cold user.
    case userSimilarity = 7
    /// cos(query embedding, item); 0 without a query embedding.
    case querySimilarity = 8
    /// log(1 + this user's decayed clicks + saves on this item).
    case userEngagement = 9
    /// This user's decayed hides of this item.
    case userHides = 10
    /// 2^(−age / freshness half-life) from the item's publication time; 0 when unknown.
    case freshness = 11

    /// The column's name in snake case, as model files and reports spell it.
    public var description: String {
        switch self {
        case .retrievalScore: "retrieval_score"
        case .reciprocalRank: "reciprocal_rank"
        case .clickRate: "click_rate"
        case .saveRate: "save_rate"
        case .hideRate: "hide_rate"
        case .purchaseRate: "purchase_rate"
        case .logImpressions: "log_impressions"
        case .userSimilarity: "user_similarity"
        case .querySimilarity: "query_similarity"
        case .userEngagement: "user_engagement"
        case .userHides: "user_hides"
        case .freshness: "freshness"
        }
    }
}
