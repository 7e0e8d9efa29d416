import Foundation
import SearchCore

/// One interaction: who did what to which item, when.
public struct EngagementEvent: Sendable, Hashable {
    /// The item.
    public var item: VectorID
    /// The person, when known; anonymous events count for the item only.
    public var user: UserID?
    /// What happened.
    public var kind: EngagementKind
    /// When it happened.
    public var time: Date

    /// An event.
    public init(item: VectorID, user: UserID? = nil, kind: EngagementKind, time: Date) {
        self.item = item
        self.user = user
        self.kind = kind
        self.time = time
    }
}
