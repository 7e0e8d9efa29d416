/// One result of a nearest-neighbour search.
@frozen
public struct SearchHit: Hashable, Sendable, CustomStringConvertible {
    /// The host's identifier of the vector found.
    public var id: VectorID
    /// Its distance to the query; smaller is closer (see ``Metric``).
    public var distance: Float

    @inlinable
    /// A hit for `id` at `distance` (smaller is closer).
    public init(id: VectorID, distance: Float) {
        self.id = id
        self.distance = distance
    }

    /// The similarity under `metric`, larger is better.
    @inlinable
    public func score(_ metric: Metric) -> Float { metric.score(fromDistance: distance) }

    /// Orders hits closest first; ties broken by the smaller id, so results are
    /// deterministic.
    @inlinable
    public static func closerFirst(_ lhs: SearchHit, _ rhs: SearchHit) -> Bool {
        lhs.distance < rhs.distance || (lhs.distance == rhs.distance && lhs.id < rhs.id)
    }

    public var description: String { "\(id)@\(distance)" }
}
