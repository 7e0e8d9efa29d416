import SearchCore
import Tensor

extension HNSWCore: KNNGraph {
    typealias Layout = GraphView<Codec>

    var slotCount: Int { nodeCount }

    var searchEntry: (slot: UInt32, level: Int)? {
        let top = entry.withLock { $0 }
        return top.isEmpty ? nil : (top.slot, top.level)
    }

    var float32Rows: UnsafePointer<Float>? { keepsExact ? exact.map { UnsafePointer($0) } : nil }

    var rescoringOversampling: Int { configuration.rescoringOversampling }

    var exactScanBelowSelectivity: Double { configuration.exactScanBelowSelectivity }

    @inline(__always)
    func identifier(_ slot: UInt32) -> VectorID { ids[Int(slot)] }

    /// ``AllowList`` and ``IDBitSet`` know their size (an upper bound: they may name absent ids).
    func allowedCount<Filter: SearchFilter>(_ filter: Filter) -> Int? {
        if let list = filter as? AllowList { return list.count }
        if let bits = filter as? IDBitSet { return bits.count }
        return nil
    }

    /// An ``AllowList`` or ``IDBitSet`` smaller than an eighth of the index
    /// is walked id by id through the id map.
    func forEachNamedSlot<Filter: SearchFilter>(_ filter: Filter, _ body: (UInt32) -> Void) -> Bool {
        if let list = filter as? AllowList, list.count < nodeCount / 8 {
            for id in list.ids {
                if let slot = slots[id] { body(slot) }
            }
            return true
        }
        if let bits = filter as? IDBitSet, bits.count < nodeCount / 8 {
            bits.forEach { id in
                if let slot = slots[id] { body(slot) }
            }
            return true
        }
        return false
    }

    /// Greedy descent on one upper layer; see ``LayerSearch/greedy(_:_:from:distance:layer:scratch:)``.
    @inline(__always)
    func greedy(
        _ query: PreparedQuery, from start: UInt32, distance startDistance: Float, layer: Int, locked: Bool,
        scratch: SearchScratch
    ) -> (UInt32, Float) {
        if locked {
            return LayerSearch.greedy(
                LockedGraphView(view: view, locks: linkLocks), query, from: start, distance: startDistance, layer: layer,
                scratch: scratch)
        }
        return LayerSearch.greedy(view, query, from: start, distance: startDistance, layer: layer, scratch: scratch)
    }

    /// SEARCH-LAYER on this graph: read in place when searching (the graph is
    /// not changing), or copying each list under its node's lock while
    /// building in parallel.
    @inline(__always)
    func searchLayer<Accept: NodeAcceptor>(
        _ query: PreparedQuery, entry start: UInt32, entryDistance: Float, ef: Int, layer: Int, locked: Bool,
        accept: Accept, scratch: SearchScratch
    ) {
        if locked {
            LayerSearch.searchLayer(
                LockedGraphView(view: view, locks: linkLocks), query, entry: start, entryDistance: entryDistance, ef: ef,
                layer: layer, nodeCount: nodeCount, accept: accept, scratch: scratch)
        } else {
            LayerSearch.searchLayer(
                view, query, entry: start, entryDistance: entryDistance, ef: ef, layer: layer, nodeCount: nodeCount,
                accept: accept, scratch: scratch)
        }
    }

    /// K-NN-SEARCH for one normalised float query, with a filter and deletes
    /// (see ``KNNGraph``); writes at most `k` hits closest first into `out`
    /// and returns how many. Shared lock held.
    @inline(__always)
    func search<Filter: SearchFilter>(
        _ vector: UnsafePointer<Float>, k: Int, ef: Int, filter: Filter,
        into out: UnsafeMutablePointer<SearchHit>, scratch: SearchScratch
    ) -> Int {
        let accept = FilteredNodes(
            deleted: deleted, ids: ids, filter: filter,
            acceptsAll: Filter.self == NoFilter.self && liveCount == nodeCount)
        return search(
            vector, layout: view, k: k, ef: ef, filter: filter, accept: accept, liveCount: liveCount, into: out,
            scratch: scratch)
    }
}
