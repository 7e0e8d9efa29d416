import Foundation
import SearchCore

/// Turns candidates into rows of features a learned ranker scores: the
/// ``RankingFeature`` columns, then any the host adds per item.
///
/// ```swift
/// let pipeline = FeaturePipeline(store: store, items: embeddings)
/// let rows = pipeline.rows(for: candidates, context: FeatureContext(user: u, userVector: v, now: Date()))
/// ```
public struct FeaturePipeline: Sendable {
    /// Engagement counts and rates.
    public var store: EngagementStore
    /// Item embeddings for the similarity features.
    public var items: EmbeddingTable
    /// Publication times for ``RankingFeature/freshness``.
    public var publishedAt: [VectorID: Date]
    /// Seconds for freshness to halve. Default 3 days.
    public var freshnessHalfLife: Double
    /// Per-item host features, appended after the built-in columns; every
    /// entry has ``hostFeatureCount`` values; a missing item gets NaN.
    public var hostFeatures: [VectorID: [Double]]
    /// Columns the host adds.
    public let hostFeatureCount: Int

    /// A pipeline; precondition: every host feature vector has `hostFeatureCount` values.
    public init(
        store: EngagementStore, items: EmbeddingTable, publishedAt: [VectorID: Date] = [:],
        freshnessHalfLife: Double = 3 * 86_400, hostFeatures: [VectorID: [Double]] = [:], hostFeatureCount: Int = 0
    ) {
        precondition(hostFeatures.values.allSatisfy { $0.count == hostFeatureCount },
            "every host feature vector must have \(hostFeatureCount) values")
        self.store = store
        self.items = items
        self.publishedAt = publishedAt
        self.freshnessHalfLife = freshnessHalfLife
        self.hostFeatures = hostFeatures
        self.hostFeatureCount = hostFeatureCount
    }

    /// Columns per row.
    public var featureCount: Int { RankingFeature.allCases.count + hostFeatureCount }

    /// Column names, built-in then `host_0`, `host_1`, ...
    public var featureNames: [String] {
        RankingFeature.allCases.map(\.description) + (0..<hostFeatureCount).map { "host_\($0)" }
    }

    /// One row per candidate, in the candidates' order, laid end to end.
    public func rows(for candidates: [RankedCandidate], context: FeatureContext) -> [Double] {
        let d = featureCount
        var out = [Double](repeating: 0, count: candidates.count * d)
        let ids = candidates.map(\.id)
        let rates = store.rates(items: ids, at: context.now)
        let userCounts = context.user.map { store.counts(user: $0, items: ids, at: context.now) }
        let t = context.now.timeIntervalSince1970
        let base = RankingFeature.allCases.count
        let userVector = context.userVector.flatMap { $0.count == items.dimension ? $0 : nil }
        let queryVector = context.queryVector.flatMap { $0.count == items.dimension ? $0 : nil }
        for (i, candidate) in candidates.enumerated() {
            let o = i * d
            let r = rates[i]
            out[o + RankingFeature.retrievalScore.rawValue] = candidate.score
            out[o + RankingFeature.reciprocalRank.rawValue] = 1 / Double(1 + i)
            out[o + RankingFeature.clickRate.rawValue] = r.click
            out[o + RankingFeature.saveRate.rawValue] = r.save
            out[o + RankingFeature.hideRate.rawValue] = r.hide
            out[o + RankingFeature.purchaseRate.rawValue] = r.purchase
            out[o + RankingFeature.logImpressions.rawValue] = log1p(r.impressions)
            if let u = userVector {
                out[o + RankingFeature.userSimilarity.rawValue] =
                    u.withUnsafeBufferPointer { Double(items.dot($0, candidate.id) ?? 0) }
            }
            if let q = queryVector {
                out[o + RankingFeature.querySimilarity.rawValue] =
                    q.withUnsafeBufferPointer { Double(items.dot($0, candidate.id) ?? 0) }
            }
            if let userCounts {
                let c = userCounts[i]
                out[o + RankingFeature.userEngagement.rawValue] = log1p(c[.click] + c[.save])
                out[o + RankingFeature.userHides.rawValue] = c[.hide]
            }
            if let published = publishedAt[candidate.id] {
                let age = max(t - published.timeIntervalSince1970, 0)
                out[o + RankingFeature.freshness.rawValue] = exp2(-age / freshnessHalfLife)
            }
            if hostFeatureCount > 0 {
                let host = hostFeatures[candidate.id]
                for k in 0..<hostFeatureCount { out[o + base + k] = host?[k] ?? .nan }
            }
        }
        return out
    }
}
