/// Decides which stored vectors a search may return.
///
/// Indices take a filter as a generic parameter, so the check is specialised
/// and inlined into the search loop: no existential or closure call per
/// candidate.
///
/// ```swift
/// let hits = try index.search(query, k: 10, filter: AllowList([3, 5, 8]))
/// ```
public protocol SearchFilter: Sendable {
    /// Whether the vector with this identifier may be returned.
    func allows(_ id: VectorID) -> Bool
}

/// The filter that allows everything.
@frozen
public struct NoFilter: SearchFilter {
    @inlinable public init() {}
    @inlinable public func allows(_ id: VectorID) -> Bool { true }
}

/// A filter from a closure over identifiers.
///
/// Convenient, but the closure is called through a pointer for every candidate
/// the search considers. Where a filter runs on a hot path, write a small
/// struct conforming to ``SearchFilter`` instead: the index is generic over
/// it, so its `allows` is specialised and inlined into the search loop.
public struct PredicateFilter: SearchFilter {
    @usableFromInline let predicate: @Sendable (VectorID) -> Bool

    /// Allows the identifiers for which `predicate` returns true.
    @inlinable
    public init(_ predicate: @escaping @Sendable (VectorID) -> Bool) {
        self.predicate = predicate
    }

    @inlinable public func allows(_ id: VectorID) -> Bool { predicate(id) }
}

/// A filter that allows exactly the identifiers of a set.
public struct AllowList: SearchFilter {
    /// The allowed identifiers.
    public let ids: Set<VectorID>

    /// Allows exactly `ids`.
    public init<S: Sequence>(_ ids: S) where S.Element == VectorID { self.ids = Set(ids) }

    @inlinable public func allows(_ id: VectorID) -> Bool { ids.contains(id) }

    /// How many identifiers are allowed; indices use it to choose between an
    /// exact scan of the allowed set and a filtered graph traversal.
    public var count: Int { ids.count }
}

/// A filter that allows every identifier except those of a set.
public struct DenyList: SearchFilter {
    /// The excluded identifiers.
    public let ids: Set<VectorID>

    /// Allows everything but `ids`.
    public init<S: Sequence>(_ ids: S) where S.Element == VectorID { self.ids = Set(ids) }

    @inlinable public func allows(_ id: VectorID) -> Bool { !ids.contains(id) }
}
