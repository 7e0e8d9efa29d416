/// What a person did with an item. Raw values are written to snapshots and never change.
public enum EngagementKind: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The item was shown.
    case impression = 1
    /// The item was opened.
    case click = 2
    /// The item was saved (pinned, bookmarked, liked).
    case save = 3
    /// The item was hidden ("not interested"); a negative signal.
    case hide = 4
    /// The item was bought.
    case purchase = 5

    /// Position in a ``EngagementCounts`` vector.
    @inlinable var slot: Int { Int(rawValue) - 1 }

    /// The kind's name.
    public var description: String {
        switch self {
        case .impression: "impression"
        case .click: "click"
        case .save: "save"
        case .hide: "hide"
        case .purchase: "purchase"
        }
    }
}
