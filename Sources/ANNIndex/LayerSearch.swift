import CSearchKernels

/// The two searches of Malkov & Yashunin over any ``GraphLayout``.
enum LayerSearch {
    /// Greedy descent on one upper layer (SEARCH-LAYER with ef = 1): moves to
    /// the closest neighbour until none is closer.
    @inline(__always)
    static func greedy<Layout: GraphLayout>(
        _ graph: Layout, _ query: PreparedQuery, from start: UInt32, distance startDistance: Float, layer: Int,
        scratch: SearchScratch
    ) -> (UInt32, Float) {
        var current = start
        var best = startDistance
        var moved = true
        while moved {
            moved = false
            let (list, count) = graph.neighbors(of: current, layer: layer, scratch: scratch)
            for j in 0..<count {
                let candidate = list[j]
                let d = graph.codec.distance(query, graph.code(candidate))
                if d < best {
                    best = d
                    current = candidate
                    moved = true
                }
            }
        }
        return (current, best)
    }

    /// SEARCH-LAYER (Algorithm 2) with hnswlib's handling of filters: every
    /// node is traversed, only accepted ones enter the results; while fewer
    /// than `ef` are accepted the search goes on. Leaves at most `ef` results
    /// in `scratch.results` (farthest on top). `nodeCount` sizes the visited set.
    @inline(__always)
    static func searchLayer<Layout: GraphLayout, Accept: NodeAcceptor>(
        _ graph: Layout, _ query: PreparedQuery, entry start: UInt32, entryDistance: Float, ef: Int, layer: Int,
        nodeCount: Int, accept: Accept, scratch: SearchScratch
    ) {
        // Locals, not class properties, in the loop: no exclusivity check or reload per access.
        var visited = scratch.visited
        var candidates = scratch.candidates
        var results = scratch.results
        defer {
            scratch.visited = visited
            scratch.candidates = candidates
            scratch.results = results
        }
        visited.reset(nodes: nodeCount)
        candidates.removeAll()
        results.removeAll()
        _ = visited.testAndSet(start)
        candidates.push(Neighbor(distance: entryDistance, slot: start))
        var bound = Float.infinity
        if accept.acceptsAll || accept.accepts(start) {
            results.push(Neighbor(distance: entryDistance, slot: start))
            bound = entryDistance
        }
        let acceptsAll = accept.acceptsAll
        let pending = scratch.pending
        while !candidates.isEmpty {
            let closest = candidates.top
            if closest.distance > bound && (acceptsAll || results.count >= ef) { break }
            candidates.pop()
            let (list, count) = graph.neighbors(of: closest.slot, layer: layer, scratch: scratch)
            // Mark the unvisited neighbours and ask for all their codes at once, so the
            // memory system fetches them in parallel; then score them.
            var fresh = 0
            for j in 0..<count where !visited.testAndSet(list[j]) {
                pending[fresh] = list[j]
                mms_prefetch(graph.code(list[j]), graph.prefetchBytes)
                fresh += 1
            }
            for j in 0..<fresh {
                let candidate = pending[j]
                let d = graph.codec.distance(query, graph.code(candidate))
                guard results.count < ef || d < bound else { continue }
                candidates.push(Neighbor(distance: d, slot: candidate))
                graph.prefetchNeighbors(of: candidates.top.slot, layer: layer)
                if acceptsAll || accept.accepts(candidate) {
                    results.push(Neighbor(distance: d, slot: candidate))
                    if results.count > ef { results.pop() }
                    bound = results.top.distance
                }
            }
        }
    }
}
