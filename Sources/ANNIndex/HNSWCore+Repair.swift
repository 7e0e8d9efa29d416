extension HNSWCore {
    /// Makes every live node reachable from the entry point on layer 0 again.
    ///
    /// HNSW does not promise this by itself: when a full neighbour list is
    /// shrunk by the heuristic, a node can lose its last incoming link (hnswlib
    /// has the same gap, more often with parallel insertion). After each batch,
    /// a breadth-first walk finds such nodes; each is linked from the closest
    /// reachable node with room, or else takes, in a close node's list, the
    /// place of a neighbour that other nodes also link to. Exclusive lock held.
    ///
    /// - Returns: how many nodes were re-linked.
    /// - Complexity: O(N · M_max0), plus one search per orphan.
    @discardableResult
    func repairReachability(scratch: SearchScratch) -> Int {
        let top = entry.withLock { $0 }
        guard !top.isEmpty, nodeCount > 1 else { return 0 }
        var reached = [Bool](repeating: false, count: nodeCount)
        var stack: [UInt32] = []
        func walk(from start: UInt32) {
            guard !reached[Int(start)] else { return }
            reached[Int(start)] = true
            stack.append(start)
            while let s = stack.popLast() {
                let list = linkList(s, layer: 0)
                for j in 0..<Int(list.pointee) where !reached[Int(list[1 + j])] {
                    reached[Int(list[1 + j])] = true
                    stack.append(list[1 + j])
                }
            }
        }
        walk(from: top.slot)
        var orphans: [UInt32] = []
        for s in 0..<nodeCount where !reached[s] && deleted[s] == 0 { orphans.append(UInt32(s)) }
        guard !orphans.isEmpty else { return 0 }

        var incoming = [UInt32](repeating: 0, count: nodeCount)
        for s in 0..<nodeCount {
            let list = linkList(UInt32(s), layer: 0)
            for j in 0..<Int(list.pointee) { incoming[Int(list[1 + j])] += 1 }
        }
        var relinked = 0
        for orphan in orphans where !reached[Int(orphan)] {
            let query = codec.prepare(code: code(orphan), scratch: scratch.queryBuffer)
            var current = top.slot
            var distance = codec.distance(query, code(current))
            for layer in stride(from: top.level, to: 0, by: -1) {
                (current, distance) = greedy(query, from: current, distance: distance, layer: layer, locked: false, scratch: scratch)
            }
            searchLayer(
                query, entry: current, entryDistance: distance, ef: configuration.efConstruction, layer: 0,
                locked: false, accept: ReachedNodes(reached: reached), scratch: scratch)
            let found = scratch.results.count
            var n = found
            while n > 0 {
                n -= 1
                scratch.selection[n] = scratch.results.pop()
            }
            var linked = false
            for i in 0..<found where scratch.selection[i].slot != orphan {
                let host = scratch.selection[i].slot
                let list = linkList(host, layer: 0)
                let count = Int(list.pointee)
                if count < m0 {
                    list[1 + count] = orphan
                    list.pointee = UInt32(count + 1)
                    linked = true
                    break
                }
            }
            if !linked {
                search: for i in 0..<found where scratch.selection[i].slot != orphan {
                    let host = scratch.selection[i].slot
                    let list = linkList(host, layer: 0)
                    for j in stride(from: Int(list.pointee) - 1, through: 0, by: -1) where incoming[Int(list[1 + j])] > 1 {
                        incoming[Int(list[1 + j])] -= 1
                        list[1 + j] = orphan
                        linked = true
                        break search
                    }
                }
            }
            guard linked else { continue }
            incoming[Int(orphan)] += 1
            relinked += 1
            walk(from: orphan)
        }
        return relinked
    }
}

/// Nodes already reachable from the entry point (for re-linking orphans).
struct ReachedNodes: NodeAcceptor {
    let reached: [Bool]
    var acceptsAll: Bool { false }
    @inline(__always) func accepts(_ slot: UInt32) -> Bool { reached[Int(slot)] }
}
