import Synchronization

/// Keeping every node reachable from the entry point on layer 0, at a cost
/// per insert that does not grow with the graph.
///
/// HNSW does not promise reachability by itself: when the heuristic shrinks a
/// full neighbour list, a node can lose its last incoming link, or a group of
/// nodes every link from outside the group (hnswlib has the same gap, more
/// often with parallel insertion). Instead of walking the whole graph after
/// each add, every node but the first holds one *anchor*: an incoming level-0
/// link, marked in the holder's anchor bits, that the heuristic never drops.
/// Only a *rooted* node may hold an anchor: the first node, an entry point, or
/// a node that holds an anchor itself (the flag is set once the anchor is in place).
///
/// - A new node is anchored in the list of the closest rooted chosen
///   neighbour that kept the reverse link; when none kept it, it takes the
///   place of the farthest unanchored entry in the closest rooted chosen
///   neighbour's list.
/// - A node that becomes the entry point anchors the previous entry point in
///   its own list.
/// - What finds no room (no rooted neighbour, which happens when building in
///   parallel, or a list full of anchors) is anchored after the batch, by
///   ``anchor(_:scratch:)``.
///
/// Why this suffices: anchors only ever hang a node from a rooted one, so the
/// anchors form a tree from the first node grown one node at a time, and the
/// chain of entry-point anchors leads from the current entry point back to
/// that first node. Every rooted node is therefore reachable from the entry
/// point over anchors alone, no later insert removes an anchor, and after each
/// batch every node is rooted. Deleted nodes keep their lists (and anchors),
/// so deletes keep it too. With several threads, a holder's list and bits, and
/// a node's rooted flag, change only under that node's stripe lock.

/// What a batch could not anchor while linking.
struct Stranded: Sendable {
    /// New nodes that found no rooted neighbour with room.
    var nodes: [UInt32] = []
    /// Former entry points whose successor's list was full of anchors.
    var entryPoints: [UInt32] = []

    var isEmpty: Bool { nodes.isEmpty && entryPoints.isEmpty }

    mutating func append(_ other: Stranded) {
        nodes.append(contentsOf: other.nodes)
        entryPoints.append(contentsOf: other.entryPoints)
    }
}

extension HNSWCore {
    /// The anchor bits of `slot`'s level-0 list.
    @inline(__always)
    func anchorBits(_ slot: UInt32) -> UnsafeMutablePointer<UInt64> { anchors + Int(slot) * anchorWords }

    /// Whether entry `position` of `slot`'s level-0 list is an anchor.
    @inline(__always)
    func isAnchor(_ slot: UInt32, at position: Int) -> Bool {
        anchorBits(slot)[position >> 6] & (1 << UInt64(position & 63)) != 0
    }

    @inline(__always)
    func markAnchor(_ slot: UInt32, at position: Int) {
        anchorBits(slot)[position >> 6] |= 1 << UInt64(position & 63)
    }

    @inline(__always)
    func holdsAnchors(_ slot: UInt32) -> Bool {
        let bits = anchorBits(slot)
        for w in 0..<anchorWords where bits[w] != 0 { return true }
        return false
    }

    /// Makes `target` an anchor in `host`'s level-0 list: marks it if listed,
    /// appends it if there is room, or else puts it in place of the entry
    /// farthest from `host` that is not an anchor. The caller holds `host`'s
    /// lock while building in parallel; `host != target`.
    ///
    /// - Returns: false when every entry of a full list is already an anchor.
    /// - Complexity: O(M_max0) distance evaluations.
    func anchor(_ target: UInt32, in host: UInt32, scratch: SearchScratch) -> Bool {
        let list = linkList(host, layer: 0)
        let count = Int(list.pointee)
        reachabilityWork.wrappingAdd(count + 1, ordering: .relaxed)
        for j in 0..<count where list[1 + j] == target {
            markAnchor(host, at: j)
            return true
        }
        if count < m0 {
            list[1 + count] = target
            list.pointee = UInt32(count + 1)
            markAnchor(host, at: count)
            return true
        }
        let pivot = codec.prepare(code: code(host), scratch: UnsafeMutableRawPointer(scratch.floatBuffer))
        var farthest = -1
        var farthestDistance = -Float.infinity
        for j in 0..<count where !isAnchor(host, at: j) {
            let d = codec.distance(pivot, code(list[1 + j]))
            if d >= farthestDistance {
                farthest = j
                farthestDistance = d
            }
        }
        guard farthest >= 0 else { return false }
        list[1 + farthest] = target
        markAnchor(host, at: farthest)
        return true
    }

    /// Writes `node`'s full level-0 list after the heuristic chose
    /// `scratch.selected[0..<kept]` (closest first) from its old `count`
    /// entries and one new one: every old anchor the heuristic left out comes
    /// back in place of the farthest chosen entry that is not an anchor, and
    /// the anchor bits follow their entries. Uses `scratch.pending` (free
    /// outside a layer search). Caller holds `node`'s lock while building in parallel.
    ///
    /// - Returns: the new length of the list.
    /// - Complexity: O(M_max0 · anchors held), no distance evaluation.
    func writeKeepingAnchors(_ node: UInt32, oldCount count: Int, kept chosen: Int, scratch: SearchScratch) -> Int {
        let list = linkList(node, layer: 0)
        let held = scratch.pending
        var gathered = 0
        for j in 0..<count where isAnchor(node, at: j) {
            held[gathered] = list[1 + j]
            gathered += 1
        }
        let heldCount = gathered
        @inline(__always) func isHeld(_ slot: UInt32) -> Bool {
            for a in 0..<heldCount where held[a] == slot { return true }
            return false
        }
        let selected = scratch.selected
        var kept = chosen
        for a in 0..<heldCount {
            let slot = held[a]
            var present = false
            for j in 0..<kept where selected[j].slot == slot {
                present = true
                break
            }
            if present { continue }
            if kept < m0 {
                selected[kept] = Neighbor(distance: .infinity, slot: slot)
                kept += 1
                continue
            }
            // The list is full and misses an anchor, so at most m0 − 1 of its entries are anchors:
            // one from the far end is not.
            var j = kept - 1
            while j >= 0 && isHeld(selected[j].slot) { j -= 1 }
            precondition(j >= 0, "a full level-0 list holds more anchors than entries")
            selected[j] = Neighbor(distance: .infinity, slot: slot)
        }
        anchorBits(node).update(repeating: 0, count: anchorWords)
        for j in 0..<kept {
            list[1 + j] = selected[j].slot
            if heldCount > 0 && isHeld(selected[j].slot) { markAnchor(node, at: j) }
        }
        list.pointee = UInt32(kept)
        reachabilityWork.wrappingAdd(count + kept * heldCount, ordering: .relaxed)
        return kept
    }

    /// Anchors what a batch left stranded, once every node of it is linked:
    /// former entry points from the current entry point's reach; then each
    /// stranded node from a rooted node of its own level-0 list, or else
    /// from the entry point's reach. Exclusive lock held, no other thread inserting.
    ///
    /// - Complexity: O(M_max0) per stranded node, plus the walks of
    ///   ``anchorFromEntryPoint(_:scratch:)`` (not needed in practice).
    func anchor(_ stranded: Stranded, scratch: SearchScratch) {
        for slot in stranded.entryPoints { anchorFromEntryPoint(slot, scratch: scratch) }
        for slot in stranded.nodes where rooted[Int(slot)] == 0 {
            let list = linkList(slot, layer: 0)
            var anchored = false
            for j in 0..<Int(list.pointee) where rooted[Int(list[1 + j])] != 0 {
                if anchor(slot, in: list[1 + j], scratch: scratch) {
                    anchored = true
                    break
                }
            }
            reachabilityWork.wrappingAdd(Int(list.pointee), ordering: .relaxed)
            if !anchored { anchorFromEntryPoint(slot, scratch: scratch) }
            rooted[Int(slot)] = 1
        }
    }

    /// Anchors `target` from the first node with room on a depth-first walk
    /// over anchors from the entry point; does nothing when the walk reaches
    /// `target` first (it is reachable already). Exclusive lock held, no
    /// other thread inserting.
    ///
    /// Only for nodes none of whose neighbours could hold the anchor; the
    /// entry point's list nearly always has room.
    ///
    /// - Complexity: O(nodes walked · M_max0); the walk ends at the first
    ///   node with room, and a node without anchors always has room.
    func anchorFromEntryPoint(_ target: UInt32, scratch: SearchScratch) {
        let top = entry.withLock { $0 }
        guard !top.isEmpty else { return }
        var visited = scratch.visited
        defer { scratch.visited = visited }
        visited.reset(nodes: nodeCount)
        _ = visited.testAndSet(top.slot)
        var stack: [UInt32] = [top.slot]
        var walked = 0
        while let s = stack.popLast() {
            if s == target || anchor(target, in: s, scratch: scratch) { break }
            let list = linkList(s, layer: 0)
            let count = Int(list.pointee)
            walked += count
            for j in 0..<count where isAnchor(s, at: j) && !visited.testAndSet(list[1 + j]) {
                stack.append(list[1 + j])
            }
        }
        reachabilityWork.wrappingAdd(walked, ordering: .relaxed)
    }
}
