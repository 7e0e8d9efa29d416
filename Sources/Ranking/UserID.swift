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
