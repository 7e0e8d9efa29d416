import CSearchKernels
import SearchCore
import Tensor

/// Decides which nodes a layer-0 search may put in its results; generic so
/// the check is inlined into the loop.
protocol NodeAcceptor {
    /// True when every node is accepted (no filter, no deletes): the search
    /// may then stop as soon as no candidate can improve the results.
    var acceptsAll: Bool { get }
    func accepts(_ slot: UInt32) -> Bool
}

/// Live nodes only.
struct LiveNodes: NodeAcceptor {
    let deleted: UnsafeMutablePointer<UInt8>
    var acceptsAll: Bool { false }
    @inline(__always) func accepts(_ slot: UInt32) -> Bool { deleted[Int(slot)] == 0 }
}

/// Live nodes whose identifier the filter allows.
struct FilteredNodes<Filter: SearchFilter>: NodeAcceptor {
    let deleted: UnsafeMutablePointer<UInt8>
    let ids: UnsafeMutablePointer<VectorID>
    let filter: Filter
    let acceptsAll: Bool

    @inline(__always) func accepts(_ slot: UInt32) -> Bool {
        deleted[Int(slot)] == 0 && filter.allows(ids[Int(slot)])
    }
}

extension HNSWCore {
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

    /// K-NN-SEARCH (Algorithm 5) for one normalised float query, with a
    /// filter, deletes, and re-scoring; writes at most `k` hits closest first
    /// into `out` and returns how many. Shared lock held.
    func search<Filter: SearchFilter>(
        _ vector: UnsafePointer<Float>, k: Int, ef requestedEF: Int, filter: Filter,
        into out: UnsafeMutablePointer<SearchHit>, scratch: SearchScratch
    ) -> Int {
        let top = entry.withLock { $0 }
        guard !top.isEmpty, liveCount > 0 else { return 0 }
        let ef = max(requestedEF, k)
        let unfiltered = Filter.self == NoFilter.self
        if !unfiltered && estimatedSelectivity(filter) < configuration.exactScanBelowSelectivity {
            return exactScan(vector, k: k, filter: filter, into: out, scratch: scratch)
        }
        let query = codec.prepare(query: vector, scratch: scratch.queryBuffer)
        var current = top.slot
        var distance = codec.distance(query, code(current))
        for layer in stride(from: top.level, to: 0, by: -1) {
            (current, distance) = greedy(query, from: current, distance: distance, layer: layer, locked: false, scratch: scratch)
        }
        let acceptor = FilteredNodes(
            deleted: deleted, ids: ids, filter: filter, acceptsAll: unfiltered && liveCount == nodeCount)
        searchLayer(
            query, entry: current, entryDistance: distance, ef: ef, layer: 0, locked: false, accept: acceptor,
            scratch: scratch)
        if scratch.results.count < k && scratch.results.count < liveCount {
            // The traversal found fewer than k allowed vectors; only a scan can say whether more exist.
            return exactScan(vector, k: k, filter: filter, into: out, scratch: scratch)
        }
        return finish(vector, k: k, scratch: scratch, into: out)
    }

    /// Turns the results heap into hits: the closest `k`, or with kept floats
    /// the closest `k·oversampling` re-scored exactly and cut to `k`.
    private func finish(
        _ vector: UnsafePointer<Float>, k: Int, scratch: SearchScratch, into out: UnsafeMutablePointer<SearchHit>
    ) -> Int {
        let rescore = keepsExact
        let keep = rescore ? min(scratch.results.count, k * configuration.rescoringOversampling) : k
        while scratch.results.count > keep { scratch.results.pop() }
        let found = scratch.results.elements
        if rescore {
            for j in found.indices { mms_prefetch(exactRow(found[j].slot), min(dimension * 4, 1024)) }
            for j in found.indices { found[j].distance = exactDistance(vector, found[j].slot) }
        }
        found.sortClosestFirst()
        let n = min(k, found.count)
        for j in 0..<n { out[j] = SearchHit(id: ids[Int(found[j].slot)], distance: found[j].distance) }
        sortTies(out, count: n)
        return n
    }

    /// Orders equal distances by id, as ``SearchHit/closerFirst`` does.
    private func sortTies(_ out: UnsafeMutablePointer<SearchHit>, count: Int) {
        var i = 1
        while i < count {
            var j = i
            let hit = out[i]
            while j > 0 && SearchHit.closerFirst(hit, out[j - 1]) {
                out[j] = out[j - 1]
                j -= 1
            }
            out[j] = hit
            i += 1
        }
    }

    /// The exact answer over live allowed nodes (float32 distances where kept).
    /// An ``AllowList`` or ``IDBitSet`` smaller than an eighth of the index is
    /// walked id by id through the id map; anything else is checked node by node.
    func exactScan<Filter: SearchFilter>(
        _ vector: UnsafePointer<Float>, k: Int, filter: Filter, into out: UnsafeMutablePointer<SearchHit>,
        scratch: SearchScratch
    ) -> Int {
        let query = codec.prepare(query: vector, scratch: scratch.queryBuffer)
        var results = scratch.results
        defer { scratch.results = results }
        results.removeAll()
        @inline(__always) func offer(_ slot: UInt32) {
            let d = keepsExact ? exactDistance(vector, slot) : codec.distance(query, code(slot))
            if results.count < k {
                results.push(Neighbor(distance: d, slot: slot))
            } else if d < results.top.distance {
                results.replaceTop(Neighbor(distance: d, slot: slot))
            }
        }
        if let list = filter as? AllowList, list.count < nodeCount / 8 {
            for id in list.ids {
                if let slot = slots[id] { offer(slot) }
            }
        } else if let bits = filter as? IDBitSet, bits.count < nodeCount / 8 {
            bits.forEach { id in
                if let slot = slots[id] { offer(slot) }
            }
        } else {
            for s in 0..<nodeCount where deleted[s] == 0 && filter.allows(ids[s]) { offer(UInt32(s)) }
        }
        let found = results.elements
        found.sortClosestFirst()
        for j in found.indices { out[j] = SearchHit(id: ids[Int(found[j].slot)], distance: found[j].distance) }
        sortTies(out, count: found.count)
        return found.count
    }

    /// The fraction of live nodes `filter` allows: exact for ``AllowList`` and
    /// ``IDBitSet`` (an upper bound: they may name absent ids), else estimated
    /// from 128 evenly spaced slots.
    func estimatedSelectivity<Filter: SearchFilter>(_ filter: Filter) -> Double {
        if let list = filter as? AllowList { return Double(list.count) / Double(max(liveCount, 1)) }
        if let bits = filter as? IDBitSet { return Double(bits.count) / Double(max(liveCount, 1)) }
        let samples = min(128, nodeCount)
        var live = 0
        var allowed = 0
        for i in 0..<samples {
            let s = i * nodeCount / samples
            guard deleted[s] == 0 else { continue }
            live += 1
            if filter.allows(ids[s]) { allowed += 1 }
        }
        return live == 0 ? 0 : Double(allowed) / Double(live)
    }
}
