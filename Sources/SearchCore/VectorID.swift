/// The identifier a host application gives a vector.
///
/// An index stores it as-is and returns it in every ``SearchHit``; it is the
/// host's key into its own catalogue. Stored on disk as a little-endian
/// `UInt64`.
///
/// ```swift
/// let id: VectorID = 42
/// let other = VectorID(rawValue: 7)
/// ```
@frozen
public struct VectorID: RawRepresentable, Hashable, Comparable, Sendable, ExpressibleByIntegerLiteral,
    CustomStringConvertible
{
    /// The host's 64-bit identifier.
    public var rawValue: UInt64

    /// Wraps a host identifier.
    @inlinable
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Wraps a host identifier.
    @inlinable
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    @inlinable
    public init(integerLiteral value: UInt64) { self.rawValue = value }

    @inlinable
    public static func < (lhs: VectorID, rhs: VectorID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { String(rawValue) }
}
