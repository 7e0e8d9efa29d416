import Dispatch
import SearchCore
import Synchronization
import Tensor

extension HNSWCore {
    /// Inserts prepared rows (finite, normalised under cosine) as new slots.
    /// Exclusive lock held; ids are new to the index.
    ///
    /// Levels are drawn in slot order from the seeded generator, so they are
    /// the same whatever the thread count; with one thread the whole graph is.
    func insert(rows: UnsafePointer<Float>, ids newIDs: UnsafeBufferPointer<VectorID>, threads: Int) {
        let count = newIDs.count
        guard count > 0 else { return }
        reserve(nodeCount + count)
        let first = nodeCount
        for i in 0..<count {
            let slot = first + i
            let level = drawLevel()
            levels[slot] = UInt8(level)
            ids[slot] = newIDs[i]
            deleted[slot] = 0
            upper[slot] = level > 0 ? .allocate(capacity: level * upperBlockWords) : nil
            for layer in 0...level { linkList(UInt32(slot), layer: layer).pointee = 0 }
            anchorBits(UInt32(slot)).initialize(repeating: 0, count: anchorWords)
            rooted[slot] = 0
            codec.encode(rows + i * dimension, into: code(UInt32(slot)))
            if keepsExact { exactRow(UInt32(slot)).update(from: rows + i * dimension, count: dimension) }
            slots[newIDs[i]] = UInt32(slot)
        }
        nodeCount += count
        liveCount += count

        var start = 0
        if entry.withLock({ $0.isEmpty }) {
            entry.withLock { $0 = EntryPoint(slot: UInt32(first), level: Int(levels[first])) }
            rooted[first] = 1
            start = 1
        }
        let workers = min(threads, count - start)
        // What could not be anchored while linking (see HNSWCore+Repair.swift), anchored once all are linked.
        var stranded = Stranded()
        if workers <= 1 {
            scratchPool.withScratch { scratch in
                for i in start..<count {
                    link(UInt32(first + i), vector: rows + i * dimension, scratch: scratch, locked: false, stranded: &stranded)
                }
            }
        } else {
            let next = Atomic<Int>(start)
            let collected = LockedValue(Stranded())
            let rowAddress = UInt(bitPattern: rows)
            withExtendedLifetime(next) {
                DispatchQueue.concurrentPerform(iterations: workers) { _ in
                    let rows = UnsafePointer<Float>(bitPattern: rowAddress)!
                    var mine = Stranded()
                    scratchPool.withScratch { scratch in
                        while true {
                            let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                            guard i < count else { break }
                            link(UInt32(first + i), vector: rows + i * dimension, scratch: scratch, locked: true, stranded: &mine)
                        }
                    }
                    if !mine.isEmpty { collected.withLock { $0.append(mine) } }
                }
            }
            stranded = collected.withLock { $0 }
        }
        if !stranded.isEmpty {
            scratchPool.withScratch { anchor(stranded, scratch: $0) }
        }
    }

    /// Links one new node into the graph: the paper's INSERT (Algorithm 1)
    /// with SELECT-NEIGHBORS-HEURISTIC (Algorithm 4) at every layer, then
    /// anchors it on layer 0 (and, if it becomes the entry point, the previous
    /// entry point in its own list) so it stays reachable; a node that found
    /// no room for its anchor is appended to `stranded`.
    ///
    /// - Complexity: O(log N · efConstruction · M) distance evaluations, plus
    ///   O(M_max0) to anchor.
    func link(
        _ slot: UInt32, vector: UnsafePointer<Float>, scratch: SearchScratch, locked: Bool, stranded: inout Stranded
    ) {
        let level = Int(levels[Int(slot)])
        let top = entry.withLock { $0 }
        let query = codec.prepare(query: vector, scratch: scratch.queryBuffer)
        var current = top.slot
        var currentDistance = codec.distance(query, code(current))
        if top.level > level {
            for layer in stride(from: top.level, to: level, by: -1) {
                (current, currentDistance) = greedy(
                    query, from: current, distance: currentDistance, layer: layer, locked: locked, scratch: scratch)
            }
        }
        for layer in stride(from: min(level, top.level), through: 0, by: -1) {
            searchLayer(
                query, entry: current, entryDistance: currentDistance, ef: configuration.efConstruction,
                layer: layer, locked: locked, accept: LiveNodes(deleted: deleted), scratch: scratch)
            if scratch.results.isEmpty {
                // Every node reached is deleted: link to the entry of this layer so the node stays reachable.
                scratch.results.push(Neighbor(distance: currentDistance, slot: current))
            }
            // Sorted ascending into the selection buffer; the closest is the next layer's entry.
            let found = min(scratch.results.count, scratch.selectionCapacity)
            while scratch.results.count > found { scratch.results.pop() }
            var n = scratch.results.count
            while n > 0 {
                n -= 1
                scratch.selection[n] = scratch.results.pop()
            }
            current = scratch.selection[0].slot
            currentDistance = scratch.selection[0].distance
            let chosenCount = selectNeighbors(scratch.selection, count: found, limit: m, scratch: scratch)
            for j in 0..<chosenCount { scratch.chosen[j] = scratch.selected[j].slot }

            let own = linkList(slot, layer: layer)
            if locked { linkLocks.lock(slot) }
            // Nobody anchors in a node's list before it is rooted, below, so overwriting drops no anchor.
            assert(layer > 0 || !holdsAnchors(slot), "a node held anchors before its own list was written")
            own.pointee = UInt32(chosenCount)
            (own + 1).update(from: scratch.chosen, count: chosenCount)
            if locked { linkLocks.unlock(slot) }

            // On layer 0 the closest rooted neighbour that keeps the reverse link holds the anchor;
            // if none kept it, the closest rooted neighbour makes room for it.
            var anchored = layer > 0
            for j in 0..<chosenCount {
                let neighbor = scratch.chosen[j]
                if locked { linkLocks.lock(neighbor) }
                if let position = addLink(from: neighbor, to: slot, layer: layer, scratch: scratch),
                    !anchored && rooted[Int(neighbor)] != 0
                {
                    markAnchor(neighbor, at: position)
                    anchored = true
                }
                if locked { linkLocks.unlock(neighbor) }
            }
            var j = 0
            while !anchored && j < chosenCount {
                let neighbor = scratch.chosen[j]
                if locked { linkLocks.lock(neighbor) }
                if rooted[Int(neighbor)] != 0 { anchored = anchor(slot, in: neighbor, scratch: scratch) }
                if locked { linkLocks.unlock(neighbor) }
                j += 1
            }
            if layer == 0 {
                if anchored {
                    if locked { linkLocks.lock(slot) }
                    rooted[Int(slot)] = 1
                    if locked { linkLocks.unlock(slot) }
                } else {
                    stranded.nodes.append(slot)
                }
            }
        }
        if level > top.level {
            let previous = entry.withLock { point -> EntryPoint? in
                guard level > point.level else { return nil }
                let old = point
                point = EntryPoint(slot: slot, level: level)
                return old
            }
            if let previous {
                // The new entry point anchors the previous one, and is rooted by being the entry point.
                if locked { linkLocks.lock(slot) }
                let anchored = anchor(previous.slot, in: slot, scratch: scratch)
                rooted[Int(slot)] = 1
                if locked { linkLocks.unlock(slot) }
                if !anchored { stranded.entryPoints.append(previous.slot) }
            }
        }
    }

    /// Adds `target` to `node`'s list on `layer`, shrinking it with the
    /// heuristic when full (hnswlib's rule) but keeping every anchor (see
    /// `HNSWCore+Repair.swift`). Caller holds `node`'s lock if building in parallel.
    ///
    /// - Returns: where `target` is in the list now, or nil when the heuristic left it out.
    /// - Complexity: O(M_max0²) distance evaluations when the list is full, O(M_max0) otherwise.
    @discardableResult
    func addLink(from node: UInt32, to target: UInt32, layer: Int, scratch: SearchScratch) -> Int? {
        let list = linkList(node, layer: layer)
        let count = Int(list.pointee)
        let limit = maxDegree(layer: layer)
        for j in 0..<count where list[1 + j] == target { return j }
        if count < limit {
            list[1 + count] = target
            list.pointee = UInt32(count + 1)
            return count
        }
        let pivot = codec.prepare(code: code(node), scratch: UnsafeMutableRawPointer(scratch.floatBuffer))
        scratch.selection[0] = Neighbor(distance: codec.distance(pivot, code(target)), slot: target)
        for j in 0..<count {
            let other = list[1 + j]
            scratch.selection[1 + j] = Neighbor(distance: codec.distance(pivot, code(other)), slot: other)
        }
        UnsafeMutableBufferPointer(start: scratch.selection, count: count + 1).sortClosestFirst()
        var kept = selectNeighbors(scratch.selection, count: count + 1, limit: limit, scratch: scratch)
        if layer == 0 && holdsAnchors(node) {
            kept = writeKeepingAnchors(node, oldCount: count, kept: kept, scratch: scratch)
        } else {
            for j in 0..<kept { list[1 + j] = scratch.selected[j].slot }
            list.pointee = UInt32(kept)
        }
        for j in 0..<kept where list[1 + j] == target { return j }
        return nil
    }

    /// SELECT-NEIGHBORS-HEURISTIC (Malkov & Yashunin, Algorithm 4, without
    /// extending or keeping pruned candidates, as hnswlib): walking
    /// `candidates` closest first, keep one only if it is closer to the base
    /// than to every neighbour kept so far. Writes `scratch.selected`.
    ///
    /// - Precondition: `candidates` sorted closest first.
    func selectNeighbors(
        _ candidates: UnsafeMutablePointer<Neighbor>, count: Int, limit: Int, scratch: SearchScratch
    ) -> Int {
        if count <= limit {
            scratch.selected.update(from: candidates, count: count)
            return count
        }
        var kept = 0
        for i in 0..<count {
            guard kept < limit else { break }
            let candidate = candidates[i]
            let pivot = codec.prepare(code: code(candidate.slot), scratch: scratch.pivotBuffer)
            var diverse = true
            for j in 0..<kept where codec.distance(pivot, code(scratch.selected[j].slot)) < candidate.distance {
                diverse = false
                break
            }
            if diverse {
                scratch.selected[kept] = candidate
                kept += 1
            }
        }
        return kept
    }
}
