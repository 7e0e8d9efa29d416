import SearchCore
import Synchronization
import Tensor

/// The graph of an ``HNSWIndex`` for one vector encoding: storage, insertion
/// and search, specialised for the codec.
///
/// Layout, after hnswlib: every node owns one fixed-stride block of the
/// level-0 arena, 64-byte aligned, holding its code and then its level-0
/// neighbour list (`count: UInt32`, then `M_max0` slots), so expanding a
/// node and scoring its neighbours touches few cache lines. Nodes with layers
/// above 0 own one more block with `(1 + M)` UInt32 per upper layer.
/// Identifiers, levels and tombstones live in their own arrays; float32
/// vectors kept for re-scoring in another.
///
/// Synchronisation (this is why `@unchecked Sendable` is sound):
/// - every change of size or structure (`reserve`, `compact`, tombstones, the
///   id map, adding nodes) runs while the owning ``HNSWIndex`` holds its
///   readers–writer lock exclusively; searches hold it shared and only read;
/// - while a batch is inserted on several threads (all under the exclusive
///   lock, so no search runs), a node's neighbour lists, anchor bits and
///   rooted flag are read and written only under that node's stripe of `linkLocks`, each thread writes the code,
///   level and id of only the slots it claimed, before any other thread can
///   learn of them (through a list written under a lock), and the entry point
///   is read and written only under the `entry` mutex.
final class HNSWCore<Codec: VectorCodec>: @unchecked Sendable {
    let dimension: Int
    let metric: Metric
    let configuration: HNSWIndex.Configuration
    let codec: Codec
    let kernels: Kernels
    /// M (layers ≥ 1) and M_max0 (layer 0).
    let m: Int
    let m0: Int
    /// Byte offset of the level-0 list within a node's block, and the block size.
    let linkOffset: Int
    let nodeStride: Int
    let upperBlockWords: Int
    /// Words of anchor bits per node: ⌈M_max0 / 64⌉.
    let anchorWords: Int
    let keepsExact: Bool
    /// How much of each neighbour's code a search prefetches: all of a small
    /// code, the first lines of a large one (the hardware streams the rest).
    let prefetchBytes: Int

    private(set) var capacity = 0
    /// Slots used, deleted ones included.
    var nodeCount = 0
    var liveCount = 0
    var arena: UnsafeMutableRawPointer
    var upper: UnsafeMutablePointer<UnsafeMutablePointer<UInt32>?>
    var levels: UnsafeMutablePointer<UInt8>
    var ids: UnsafeMutablePointer<VectorID>
    var deleted: UnsafeMutablePointer<UInt8>
    /// Per node, `anchorWords` words: bit j marks entry j of its level-0 list
    /// as an anchor, a link the heuristic may never drop (see
    /// `HNSWCore+Repair.swift`). Read and written under the node's stripe lock
    /// while building in parallel.
    var anchors: UnsafeMutablePointer<UInt64>
    /// Per node, 1 once it is reachable over anchors (it holds an anchor from
    /// a rooted node, or is or was the entry point); only a rooted node may
    /// hold an anchor. Under the node's stripe lock while building in parallel.
    var rooted: UnsafeMutablePointer<UInt8>
    var exact: UnsafeMutablePointer<Float>?
    var slots: [VectorID: UInt32] = [:]
    var levelGenerator: SplitMix64

    let entry = LockedValue(EntryPoint())
    let linkLocks = StripedLocks(stripes: 1 << 12)
    let scratchPool: ScratchPool
    let scratchCapacityHint: CapacityHint
    /// Level-0 list entries read or written to keep every node reachable
    /// (anchoring, and the rare walk). A count for tests: it must stay
    /// constant per insert, not grow with the graph.
    let reachabilityWork = Atomic<Int>(0)

    struct EntryPoint: Sendable {
        var slot: UInt32 = 0
        var level: Int = -1
        var isEmpty: Bool { level < 0 }
    }

    init(dimension: Int, metric: Metric, configuration: HNSWIndex.Configuration, codec: Codec, kernels: Kernels) {
        self.dimension = dimension
        self.metric = metric
        self.configuration = configuration
        self.codec = codec
        self.kernels = kernels
        m = configuration.m
        m0 = configuration.resolvedMaxNeighborsLayer0
        linkOffset = (codec.codeBytes + 3) & ~3
        nodeStride = (linkOffset + 4 * (1 + m0) + 63) & ~63
        upperBlockWords = 1 + m
        anchorWords = (m0 + 63) / 64
        keepsExact = configuration.encoding != .float32 && configuration.keepsFloat32ForRescoring
        levelGenerator = SplitMix64(seed: configuration.seed)
        // Measured on the 100k × 512 benchmark: 256 to 1,024 bytes perform alike for f32; an
        // int8 code of 520 bytes is then fetched whole.
        prefetchBytes = min(codec.codeBytes, 640)
        arena = .allocate(byteCount: 64, alignment: 64)
        upper = .allocate(capacity: 1)
        levels = .allocate(capacity: 1)
        ids = .allocate(capacity: 1)
        deleted = .allocate(capacity: 1)
        anchors = .allocate(capacity: anchorWords)
        rooted = .allocate(capacity: 1)
        let (d, queryBytes, degree, efC) = (dimension, codec.queryScratchBytes, m0, configuration.efConstruction)
        let nodes = CapacityHint()
        scratchCapacityHint = nodes
        scratchPool = ScratchPool {
            SearchScratch(dimension: d, queryBytes: queryBytes, maxDegree: degree, capacity: nodes.value, efConstruction: efC)
        }
    }

    deinit {
        for s in 0..<nodeCount { upper[s]?.deallocate() }
        arena.deallocate()
        upper.deallocate()
        levels.deallocate()
        ids.deallocate()
        deleted.deallocate()
        anchors.deallocate()
        rooted.deallocate()
        exact?.deallocate()
    }

    // MARK: Node access

    /// The graph's addresses and codec as one value, for a search loop to keep in registers.
    @inline(__always)
    var view: GraphView<Codec> {
        GraphView(
            arena: arena, nodeStride: nodeStride, linkOffset: linkOffset, upper: upper, upperBlockWords: upperBlockWords,
            codec: codec, prefetchBytes: prefetchBytes)
    }

    @inline(__always)
    func code(_ slot: UInt32) -> UnsafeMutableRawPointer { arena + Int(slot) * nodeStride }

    /// The neighbour list of `slot` on `layer`: a count followed by the slots.
    @inline(__always)
    func linkList(_ slot: UInt32, layer: Int) -> UnsafeMutablePointer<UInt32> {
        if layer == 0 {
            return (arena + Int(slot) * nodeStride + linkOffset).assumingMemoryBound(to: UInt32.self)
        }
        return upper[Int(slot)]! + (layer - 1) * upperBlockWords
    }

    @inline(__always)
    func maxDegree(layer: Int) -> Int { layer == 0 ? m0 : m }

    @inline(__always)
    func exactRow(_ slot: UInt32) -> UnsafeMutablePointer<Float> { exact! + Int(slot) * dimension }

    // MARK: Growth

    /// Makes room for `nodes` slots. Exclusive lock held.
    func reserve(_ nodes: Int) {
        guard nodes > capacity else { return }
        let newCapacity = max(nodes, capacity + capacity / 2, 64)
        let newArena = UnsafeMutableRawPointer.allocate(byteCount: newCapacity * nodeStride, alignment: 64)
        newArena.copyMemory(from: arena, byteCount: nodeCount * nodeStride)
        arena.deallocate()
        arena = newArena
        func grow<T>(_ old: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<T> {
            let new = UnsafeMutablePointer<T>.allocate(capacity: newCapacity)
            new.moveInitialize(from: old, count: nodeCount)
            old.deallocate()
            return new
        }
        upper = grow(upper)
        levels = grow(levels)
        ids = grow(ids)
        deleted = grow(deleted)
        rooted = grow(rooted)
        let newAnchors = UnsafeMutablePointer<UInt64>.allocate(capacity: newCapacity * anchorWords)
        newAnchors.moveInitialize(from: anchors, count: nodeCount * anchorWords)
        anchors.deallocate()
        anchors = newAnchors
        if keepsExact {
            let new = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity * dimension)
            if let old = exact {
                new.moveInitialize(from: old, count: nodeCount * dimension)
                old.deallocate()
            }
            exact = new
        }
        capacity = newCapacity
        scratchCapacityHint.value = newCapacity
    }

    /// Draws a top layer: ⌊−ln(U(0,1))·m_L⌋, capped at 15.
    func drawLevel() -> Int {
        let u = Double(levelGenerator.next() >> 11) * 0x1p-53
        let level = Int(-log(max(u, 0x1p-53)) * configuration.resolvedLevelMultiplier)
        return min(level, 15)
    }

    // MARK: Memory

    /// Bytes of links (level-0 lists and their anchor bits, upper blocks, ids, levels, tombstones),
    /// codes, and kept floats, for `capacity` slots.
    func memory() -> (graph: Int, codes: Int, rescoring: Int, slots: Int) {
        var upperBytes = 0
        for s in 0..<nodeCount where levels[s] > 0 {
            upperBytes += Int(levels[s]) * upperBlockWords * 4
        }
        return (
            graph: capacity * graphBytesPerNode + upperBytes,
            codes: capacity * codec.codeBytes,
            rescoring: keepsExact ? capacity * dimension * 4 : 0,
            slots: capacity
        )
    }

    /// Graph bytes of one node besides its upper layers and code: the rest of
    /// its level-0 block, identifier, level, tombstone, rooted flag and anchor words.
    private var graphBytesPerNode: Int {
        nodeStride - codec.codeBytes + MemoryLayout<VectorID>.stride + 3 + 8 + 8 * anchorWords
    }

    /// What ``memory()`` comes to per vector, with the upper layers at their
    /// expected size: Σ_{l≥1} P(level ≥ l) = Σ e^(−l/m_L) layers of `1 + M` words.
    func bytesPerVector() -> Double {
        let p = exp(-1 / configuration.resolvedLevelMultiplier)
        let expectedUpperLayers = p / (1 - p)
        return Double(graphBytesPerNode + codec.codeBytes + (keepsExact ? dimension * 4 : 0))
            + expectedUpperLayers * Double(upperBlockWords * 4)
    }
}

/// The capacity new scratch objects are made with. Written under the index's
/// exclusive lock, read when a scratch object is made; an atomic so the read
/// needs no lock.
final class CapacityHint: Sendable {
    private let storage = Atomic<Int>(64)
    var value: Int {
        get { storage.load(ordering: .relaxed) }
        set { storage.store(newValue, ordering: .relaxed) }
    }
}

/// SplitMix64: small, fast and seedable, so a seeded build draws the same levels.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The read-only addresses a search needs, copied out of ``HNSWCore`` once per search.
struct GraphView<Codec: VectorCodec> {
    let arena: UnsafeMutableRawPointer
    let nodeStride: Int
    let linkOffset: Int
    let upper: UnsafeMutablePointer<UnsafeMutablePointer<UInt32>?>
    let upperBlockWords: Int
    let codec: Codec
    let prefetchBytes: Int

    @inline(__always)
    func linkList(_ slot: UInt32, layer: Int) -> UnsafeMutablePointer<UInt32> {
        if layer == 0 {
            return (arena + Int(slot) * nodeStride + linkOffset).assumingMemoryBound(to: UInt32.self)
        }
        return upper[Int(slot)]! + (layer - 1) * upperBlockWords
    }
}
