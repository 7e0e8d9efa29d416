import CSearchKernels

/// The memory one search (or one insertion) works in, reused from call to
/// call so a query allocates nothing once the pool is warm.
///
/// Holds the two heaps of the paper's SEARCH-LAYER (candidates C, closest
/// first; results W, farthest first), the visited set, room for a prepared
/// query, and buffers for neighbour lists.
///
/// `@unchecked Sendable` is sound: a scratch object is only ever used by the
/// one thread that checked it out of a ``ScratchPool``; the pool's mutex
/// orders the hand-over between threads.
final class SearchScratch: @unchecked Sendable {
    var candidates = NeighborHeap<MinFirst>(capacity: 256)
    var results = NeighborHeap<MaxFirst>(capacity: 256)
    var visited: VisitedSet
    /// A prepared query (int8 codes, or floats decoded from f16).
    let queryBuffer: UnsafeMutableRawPointer
    /// A second prepared vector (the neighbour-selection heuristic's).
    let pivotBuffer: UnsafeMutableRawPointer
    /// A normalised copy of a cosine query, or a decoded vector.
    let floatBuffer: UnsafeMutablePointer<Float>
    /// A copy of one neighbour list, taken under its lock while building.
    let links: UnsafeMutablePointer<UInt32>
    /// The unvisited neighbours of the node being expanded.
    let pending: UnsafeMutablePointer<UInt32>
    /// The neighbours chosen for the element being inserted.
    let chosen: UnsafeMutablePointer<UInt32>
    /// The neighbour-selection heuristic's input and output.
    let selection: UnsafeMutablePointer<Neighbor>
    let selected: UnsafeMutablePointer<Neighbor>
    let selectionCapacity: Int

    init(dimension: Int, queryBytes: Int, maxDegree: Int, capacity: Int, efConstruction: Int) {
        visited = VisitedSet(capacity: capacity)
        let bytes = max(queryBytes, dimension * 4, 64)
        queryBuffer = .allocate(byteCount: bytes, alignment: 64)
        pivotBuffer = .allocate(byteCount: bytes, alignment: 64)
        floatBuffer = .allocate(capacity: dimension)
        links = .allocate(capacity: maxDegree + 1)
        chosen = .allocate(capacity: maxDegree + 1)
        pending = .allocate(capacity: maxDegree + 1)
        selectionCapacity = max(efConstruction, maxDegree) + 1
        selection = .allocate(capacity: selectionCapacity)
        selected = .allocate(capacity: selectionCapacity)
    }

    deinit {
        candidates.deallocate()
        results.deallocate()
        visited.deallocate()
        queryBuffer.deallocate()
        pivotBuffer.deallocate()
        floatBuffer.deallocate()
        links.deallocate()
        chosen.deallocate()
        pending.deallocate()
        selection.deallocate()
        selected.deallocate()
    }
}

/// The set of nodes a search has reached, cleared in O(1) by bumping an epoch
/// (hnswlib's visited list): a node is visited when its mark equals the
/// current epoch. Every 65,535 searches the marks are zeroed once.
///
/// A value over a pointer, like ``NeighborHeap``: a search copies it into a
/// local, stores it back, and the owning scratch frees it.
struct VisitedSet {
    private(set) var marks: UnsafeMutablePointer<UInt16>
    private(set) var capacity: Int
    private var epoch: UInt16 = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 1)
        marks = .allocate(capacity: self.capacity)
        marks.initialize(repeating: 0, count: self.capacity)
    }

    func deallocate() { marks.deallocate() }

    /// Starts a new search over `nodes` nodes: forgets every mark.
    @inline(__always)
    mutating func reset(nodes: Int) {
        if nodes > capacity {
            marks.deallocate()
            capacity = max(nodes, capacity * 2)
            marks = .allocate(capacity: capacity)
            marks.initialize(repeating: 0, count: capacity)
            epoch = 0
        }
        if epoch == .max {
            marks.update(repeating: 0, count: capacity)
            epoch = 0
        }
        epoch += 1
    }

    /// Asks for `node`'s mark to be brought into cache.
    @inline(__always)
    func prefetch(_ node: UInt32) { mms_prefetch(marks + Int(node), 1) }

    /// Marks `node`; returns whether it was already marked in this search.
    @inline(__always)
    mutating func testAndSet(_ node: UInt32) -> Bool {
        let i = Int(node)
        if marks[i] == epoch { return true }
        marks[i] = epoch
        return false
    }
}

/// A stack of scratch objects shared by the threads searching one index.
final class ScratchPool: Sendable {
    private let idle = LockedValue<[SearchScratch]>([])
    private let make: @Sendable () -> SearchScratch

    init(make: @escaping @Sendable () -> SearchScratch) { self.make = make }

    /// Runs `body` with a scratch object that no other thread holds.
    @inline(__always)
    func withScratch<R, E: Error>(_ body: (SearchScratch) throws(E) -> R) throws(E) -> R {
        let scratch = idle.withLock { $0.popLast() } ?? make()
        defer { idle.withLock { $0.append(scratch) } }
        return try body(scratch)
    }
}
