import Synchronization

/// User vectors by user, for rankers that are handed only a ``RankingContext``.
public final class UserVectorStore: Sendable {
    private let table: Mutex<[UserID: [Float]]> = Mutex([:])

    /// An empty store.
    public init() {}

    /// Sets (or, with nil, clears) a user's vector.
    public func set(_ user: UserID, _ vector: [Float]?) { table.withLock { $0[user] = vector } }

    /// A user's vector, if known.
    public func vector(for user: UserID) -> [Float]? { table.withLock { $0[user] } }
}
