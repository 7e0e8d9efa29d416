import Foundation

/// Who and what the features are computed for.
public struct FeatureContext: Sendable {
    /// The user, for per-(user, item) counts.
    public var user: UserID?
    /// The user's embedding (pooled or from a user tower), unit length.
    public var userVector: [Float]?
    /// The query's embedding.
    public var queryVector: [Float]?
    /// The instant engagement is decayed to.
    public var now: Date

    /// A context.
    public init(user: UserID? = nil, userVector: [Float]? = nil, queryVector: [Float]? = nil, now: Date) {
        self.user = user
        self.userVector = userVector
        self.queryVector = queryVector
        self.now = now
    }
}
