import CSearchKernels

/// Where a layer search reads codes and neighbour lists: the in-memory
/// graph's arena (``GraphView``), the same arena under per-node locks while
/// building in parallel (``LockedGraphView``), or a memory-mapped segment
/// (``SegmentGraphLayout``). The search loop is generic over it, so each
/// access compiles to direct loads.
protocol GraphLayout {
    associatedtype Codec: VectorCodec
    var codec: Codec { get }
    /// How much of a neighbour's code to prefetch.
    var prefetchBytes: Int { get }
    /// The stored code of `slot`.
    func code(_ slot: UInt32) -> UnsafeRawPointer
    /// The neighbours of `slot` on `layer`: the slots and their count,
    /// possibly copied into `scratch.links`.
    func neighbors(of slot: UInt32, layer: Int, scratch: SearchScratch) -> (UnsafePointer<UInt32>, Int)
    /// Asks for the neighbour list of `slot` on `layer` to be brought into cache.
    func prefetchNeighbors(of slot: UInt32, layer: Int)
}

extension GraphView: GraphLayout {
    @inline(__always)
    func code(_ slot: UInt32) -> UnsafeRawPointer { UnsafeRawPointer(arena + Int(slot) * nodeStride) }

    @inline(__always)
    func neighbors(of slot: UInt32, layer: Int, scratch: SearchScratch) -> (UnsafePointer<UInt32>, Int) {
        let list = linkList(slot, layer: layer)
        return (UnsafePointer(list + 1), Int(list.pointee))
    }

    @inline(__always)
    func prefetchNeighbors(of slot: UInt32, layer: Int) { mms_prefetch(linkList(slot, layer: layer), 64) }
}

/// The in-memory arena while several threads insert: each list is copied
/// under its node's stripe lock.
struct LockedGraphView<Codec: VectorCodec>: GraphLayout {
    let view: GraphView<Codec>
    let locks: StripedLocks

    var codec: Codec { view.codec }
    var prefetchBytes: Int { view.prefetchBytes }

    @inline(__always)
    func code(_ slot: UInt32) -> UnsafeRawPointer { view.code(slot) }

    @inline(__always)
    func neighbors(of slot: UInt32, layer: Int, scratch: SearchScratch) -> (UnsafePointer<UInt32>, Int) {
        let list = view.linkList(slot, layer: layer)
        locks.lock(slot)
        let count = Int(list.pointee)
        scratch.links.update(from: list + 1, count: count)
        locks.unlock(slot)
        return (UnsafePointer(scratch.links), count)
    }

    @inline(__always)
    func prefetchNeighbors(of slot: UInt32, layer: Int) {
        view.prefetchNeighbors(of: slot, layer: layer)
        locks.prefetch(slot)
    }
}

/// A mapped segment as a ``GraphLayout``: codes in place in the mapping,
/// level-0 lists from the block cache, upper lists from ``UpperLayers``.
struct SegmentGraphLayout<Codec: VectorCodec>: GraphLayout {
    let codec: Codec
    let prefetchBytes: Int
    let codes: UnsafeRawPointer
    let codeStride: Int
    let levelZero: LevelZeroCache
    let upper: UpperLayers

    @inline(__always)
    func code(_ slot: UInt32) -> UnsafeRawPointer { codes + Int(slot) * codeStride }

    @inline(__always)
    func neighbors(of slot: UInt32, layer: Int, scratch: SearchScratch) -> (UnsafePointer<UInt32>, Int) {
        if layer == 0 {
            let list = levelZero.list(slot)
            return (list + 1, Int(list.pointee))
        }
        return upper.list(slot, layer: layer)
    }

    @inline(__always)
    func prefetchNeighbors(of slot: UInt32, layer: Int) {
        if layer == 0, let list = levelZero.decodedList(slot) { mms_prefetch(list, 64) }
    }
}
