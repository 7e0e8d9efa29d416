/// A candidate in a search: a distance and the internal slot it belongs to.
@frozen
@usableFromInline
struct Neighbor {
    @usableFromInline var distance: Float
    @usableFromInline var slot: UInt32

    @inlinable @inline(__always)
    init(distance: Float, slot: UInt32) {
        self.distance = distance
        self.slot = slot
    }
}

/// A binary heap of neighbours on a buffer it reuses.
///
/// `Order` selects a max-heap (farthest on top: the bounded result set) or a
/// min-heap (closest on top: the candidate queue). Grows by doubling and
/// never shrinks, so a scratch object reaches a steady state with no
/// allocation per query.
///
/// A plain value over a pointer, so a search can hold it in a local variable
/// (no exclusivity check per push, as a class property would need) and store
/// it back when done. Its owner (``SearchScratch``) frees the buffer with
/// ``deallocate()``; copies must not outlive a `grow`.
@usableFromInline
struct NeighborHeap<Order: HeapOrder> {
    @usableFromInline var storage: UnsafeMutablePointer<Neighbor>
    @usableFromInline var capacity: Int
    @usableFromInline var count: Int = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        storage = .allocate(capacity: self.capacity)
    }

    /// Frees the buffer; the heap must not be used afterwards.
    func deallocate() { storage.deallocate() }

    @inlinable @inline(__always)
    var isEmpty: Bool { count == 0 }

    /// The element on top (the farthest of a max-heap, the closest of a min-heap).
    @inlinable @inline(__always)
    var top: Neighbor { storage[0] }

    @inlinable @inline(__always)
    mutating func removeAll() { count = 0 }

    @inlinable
    mutating func push(_ element: Neighbor) {
        if count == capacity { grow() }
        HeapOps<Order>.push(element, into: storage, count: &count)
    }

    @inlinable
    @discardableResult
    mutating func pop() -> Neighbor {
        let result = storage[0]
        count -= 1
        if count > 0 { HeapOps<Order>.siftDown(storage[count], in: storage, count: count) }
        return result
    }

    /// Replaces the top with `element` (cheaper than pop then push).
    @inlinable
    mutating func replaceTop(_ element: Neighbor) {
        HeapOps<Order>.siftDown(element, in: storage, count: count)
    }

    @usableFromInline
    mutating func grow() {
        let bigger = UnsafeMutablePointer<Neighbor>.allocate(capacity: capacity * 2)
        bigger.moveInitialize(from: storage, count: count)
        storage.deallocate()
        storage = bigger
        capacity *= 2
    }

    /// The elements in heap order (not sorted).
    @inlinable
    var elements: UnsafeMutableBufferPointer<Neighbor> { UnsafeMutableBufferPointer(start: storage, count: count) }
}

/// Chooses the order of a ``NeighborHeap`` at compile time.
@usableFromInline
protocol HeapOrder { static var isMax: Bool { get } }

/// Farthest on top.
@usableFromInline
enum MaxFirst: HeapOrder {
    @inlinable static var isMax: Bool { true }
}

/// Closest on top.
@usableFromInline
enum MinFirst: HeapOrder {
    @inlinable static var isMax: Bool { false }
}

extension UnsafeMutableBufferPointer where Element == Neighbor {
    /// Sorts closest first; ties by slot so results are deterministic.
    @inlinable
    func sortClosestFirst() {
        var copy = self
        copy.sort { (a: Neighbor, b: Neighbor) -> Bool in
            a.distance < b.distance || (a.distance == b.distance && a.slot < b.slot)
        }
    }
}

/// Heap algorithms on a raw buffer, shared by ``NeighborHeap`` and by callers
/// that keep many small heaps in one allocation (batch search).
@usableFromInline
enum HeapOps<Order: HeapOrder> {
    @inlinable @inline(__always)
    static func above(_ a: Neighbor, _ b: Neighbor) -> Bool {
        Order.isMax ? a.distance > b.distance : a.distance < b.distance
    }

    /// Pushes `element` onto the heap of `count` elements at `base` (room assumed).
    @inlinable
    static func push(_ element: Neighbor, into base: UnsafeMutablePointer<Neighbor>, count: inout Int) {
        var i = count
        count += 1
        while i > 0 {
            let parent = (i - 1) >> 1
            guard above(element, base[parent]) else { break }
            base[i] = base[parent]
            i = parent
        }
        base[i] = element
    }

    /// Puts `element` at the top and sifts it down.
    @inlinable
    static func siftDown(_ element: Neighbor, in base: UnsafeMutablePointer<Neighbor>, count n: Int) {
        var i = 0
        while true {
            let left = 2 * i + 1
            guard left < n else { break }
            var child = left
            if left + 1 < n && above(base[left + 1], base[left]) { child = left + 1 }
            guard above(base[child], element) else { break }
            base[i] = base[child]
            i = child
        }
        base[i] = element
    }

    /// Keeps the `k` best of the offered elements in a max-heap of capacity `k`.
    @inlinable @inline(__always)
    static func offer(_ element: Neighbor, k: Int, into base: UnsafeMutablePointer<Neighbor>, count: inout Int) {
        if count < k {
            push(element, into: base, count: &count)
        } else if above(base[0], element) {
            siftDown(element, in: base, count: count)
        }
    }
}
