import SearchCore

/// Decides which nodes a layer-0 search may put in its results; generic so
/// the check is inlined into the loop.
protocol NodeAcceptor {
    /// True when every node is accepted (no filter, no deletes): the search
    /// may then stop as soon as no candidate can improve the results.
    var acceptsAll: Bool { get }
    /// True when `slot` holds a live (not deleted) vector.
    func isLive(_ slot: UInt32) -> Bool
    /// True when `slot` is live and allowed.
    func accepts(_ slot: UInt32) -> Bool
}

/// Live nodes of the in-memory graph.
struct LiveNodes: NodeAcceptor {
    let deleted: UnsafeMutablePointer<UInt8>
    var acceptsAll: Bool { false }
    @inline(__always) func isLive(_ slot: UInt32) -> Bool { deleted[Int(slot)] == 0 }
    @inline(__always) func accepts(_ slot: UInt32) -> Bool { deleted[Int(slot)] == 0 }
}

/// Live nodes of the in-memory graph whose identifier the filter allows.
struct FilteredNodes<Filter: SearchFilter>: NodeAcceptor {
    let deleted: UnsafeMutablePointer<UInt8>
    let ids: UnsafeMutablePointer<VectorID>
    let filter: Filter
    let acceptsAll: Bool

    @inline(__always) func isLive(_ slot: UInt32) -> Bool { deleted[Int(slot)] == 0 }

    @inline(__always) func accepts(_ slot: UInt32) -> Bool {
        deleted[Int(slot)] == 0 && filter.allows(ids[Int(slot)])
    }
}

/// Rows of a segment live in the manifest's live set and allowed by a filter.
struct SegmentRows<Filter: SearchFilter>: NodeAcceptor {
    let live: UnsafePointer<UInt8>
    let ids: UnsafeRawPointer
    let filter: Filter
    let acceptsAll: Bool

    @inline(__always) func isLive(_ slot: UInt32) -> Bool {
        let row = Int(slot)
        return live[row >> 3] & (1 << UInt8(row & 7)) != 0
    }

    @inline(__always) func accepts(_ slot: UInt32) -> Bool {
        isLive(slot)
            && filter.allows(VectorID(UInt64(littleEndian: ids.load(fromByteOffset: 8 * Int(slot), as: UInt64.self))))
    }
}
