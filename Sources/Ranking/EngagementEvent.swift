import Foundation
import SearchCore

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

/// A person, as the engagement store keys them: a stable 64-bit identifier.
///
/// Build one from the host's string identifier with ``init(_:)-(String)``
/// (a stable FNV-1a hash, the same on every run and platform) or wrap a
/// numeric one directly.
public struct UserID: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The 64-bit key.
    public var rawValue: UInt64

    /// Wraps a numeric identifier.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Wraps a numeric identifier.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    /// Hashes a string identifier (FNV-1a, 64-bit, over its UTF-8 bytes).
    public init(_ string: String) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in string.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        rawValue = hash
    }

    /// Orders by the 64-bit key.
    public static func < (lhs: UserID, rhs: UserID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `user:<key>`.
    public var description: String { "user:\(rawValue)" }
}

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
