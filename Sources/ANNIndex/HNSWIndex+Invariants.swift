import SearchCore

extension HNSWIndex {
    /// Checks the graph's structural invariants and throws
    /// ``SearchError/Code/corruptData`` naming the first one broken:
    ///
    /// - every list on layer l holds at most M (l ≥ 1) or M_max0 (l = 0) entries,
    ///   each a distinct existing node that itself reaches layer l, never the node itself;
    /// - the entry point is on the top layer;
    /// - every live node is reachable from the entry point on layer 0;
    /// - every node is rooted, and anchor bits mark only entries of its level-0 list;
    /// - live count, tombstones and the id map agree.
    ///
    /// Expensive (O(N · M_max0)); the tests call it after every change.
    ///
    /// - Complexity: O(N · M_max0).
    public func checkInvariants() throws(SearchError) {
        try lock.withReadLock { () throws(SearchError) in
            switch graph {
            case .float32(let g): try g.checkInvariants()
            case .float16(let g): try g.checkInvariants()
            case .int8(let g): try g.checkInvariants()
            }
        }
    }

    /// A 64-bit fingerprint (FNV-1a) of the whole graph: every node's id,
    /// level, tombstone, code and neighbour lists, and the entry point. Two
    /// builds are byte-identical when their digests match.
    public func graphDigest() -> UInt64 {
        lock.withReadLock {
            switch graph {
            case .float32(let g): g.digest()
            case .float16(let g): g.digest()
            case .int8(let g): g.digest()
            }
        }
    }
}

extension HNSWCore {
    func checkInvariants() throws(SearchError) {
        func broken(_ message: String) -> SearchError { SearchError(.corruptData, "HNSW invariant: \(message)") }
        let top = entry.withLock { $0 }
        var live = 0
        var highest = -1
        for s in 0..<nodeCount {
            let slot = UInt32(s)
            let level = Int(levels[s])
            highest = max(highest, level)
            if deleted[s] == 0 {
                live += 1
                guard slots[ids[s]] == slot else { throw broken("live node \(s) (id \(ids[s])) is not in the id map") }
            }
            guard rooted[s] != 0 else { throw broken("node \(s) is not rooted: nothing anchors it") }
            let listed = Int(linkList(slot, layer: 0).pointee)
            for position in min(listed, 64 * anchorWords)..<(64 * anchorWords) where isAnchor(slot, at: position) {
                throw broken("node \(s) marks position \(position) as an anchor; its level-0 list holds \(listed)")
            }
            for layer in 0...level {
                let list = linkList(slot, layer: layer)
                let count = Int(list.pointee)
                guard count <= maxDegree(layer: layer) else {
                    throw broken("node \(s) has \(count) neighbours on layer \(layer); the bound is \(maxDegree(layer: layer))")
                }
                for j in 0..<count {
                    let n = list[1 + j]
                    guard n != slot else { throw broken("node \(s) links to itself on layer \(layer)") }
                    guard Int(n) < nodeCount else { throw broken("node \(s) links to missing node \(n)") }
                    guard Int(levels[Int(n)]) >= layer else {
                        throw broken("node \(s) links on layer \(layer) to node \(n), whose top layer is \(levels[Int(n)])")
                    }
                    for i in 0..<j where list[1 + i] == n {
                        throw broken("node \(s) lists neighbour \(n) twice on layer \(layer)")
                    }
                }
            }
        }
        guard live == liveCount, slots.count == liveCount else {
            throw broken("live count \(liveCount), tombstones leave \(live), id map holds \(slots.count)")
        }
        guard nodeCount > 0 else {
            guard top.isEmpty else { throw broken("an empty graph has an entry point") }
            return
        }
        guard top.level == highest, Int(levels[Int(top.slot)]) == highest else {
            throw broken("the entry point (node \(top.slot), layer \(top.level)) is not on the top layer \(highest)")
        }
        var seen = [Bool](repeating: false, count: nodeCount)
        var stack: [UInt32] = [top.slot]
        seen[Int(top.slot)] = true
        var reached = 0
        while let s = stack.popLast() {
            if deleted[Int(s)] == 0 { reached += 1 }
            let list = linkList(s, layer: 0)
            for j in 0..<Int(list.pointee) where !seen[Int(list[1 + j])] {
                seen[Int(list[1 + j])] = true
                stack.append(list[1 + j])
            }
        }
        guard reached == live else {
            throw broken("\(live - reached) of \(live) live nodes are unreachable from the entry point on layer 0")
        }
    }

    func digest() -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ bytes: UnsafeRawBufferPointer) {
            for b in bytes {
                hash ^= UInt64(b)
                hash &*= 0x0000_0100_0000_01b3
            }
        }
        func mix<T>(_ value: T) { withUnsafeBytes(of: value) { mix($0) } }
        let top = entry.withLock { $0 }
        mix(UInt64(nodeCount))
        mix(UInt64(top.slot))
        mix(Int64(top.level))
        for s in 0..<nodeCount {
            let slot = UInt32(s)
            mix(ids[s].rawValue)
            mix(levels[s])
            mix(deleted[s])
            mix(UnsafeRawBufferPointer(start: code(slot), count: codec.codeBytes))
            for layer in 0...Int(levels[s]) {
                let list = linkList(slot, layer: layer)
                mix(UnsafeRawBufferPointer(start: list, count: 4 * (1 + Int(list.pointee))))
            }
        }
        return hash
    }
}
