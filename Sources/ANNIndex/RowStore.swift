/// A growable block of fixed-size float rows, laid end to end.
///
/// The exact index's storage, and the float32 vectors an HNSW index keeps for
/// re-scoring. Not `Copyable`: one owner frees the memory.
struct RowStore: ~Copyable {
    let width: Int
    private(set) var base: UnsafeMutablePointer<Float>
    private(set) var capacity: Int
    var count: Int = 0

    init(width: Int, capacity: Int = 0) {
        self.width = width
        self.capacity = max(capacity, 1)
        base = .allocate(capacity: self.capacity * max(width, 1))
    }

    deinit { base.deallocate() }

    /// The row at `index`.
    @inline(__always)
    func row(_ index: Int) -> UnsafeMutablePointer<Float> { base + index * width }

    /// Makes room for at least `rows` rows, keeping the first `count`.
    mutating func reserve(_ rows: Int) {
        guard rows > capacity else { return }
        let newCapacity = max(rows, capacity + capacity / 2)
        let bigger = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity * max(width, 1))
        bigger.moveInitialize(from: base, count: count * width)
        base.deallocate()
        base = bigger
        capacity = newCapacity
    }

    /// Appends an uninitialised row and returns it.
    mutating func append() -> UnsafeMutablePointer<Float> {
        reserve(count + 1)
        count += 1
        return row(count - 1)
    }

    /// Moves the last row over `index` and drops the last.
    mutating func swapRemove(_ index: Int) {
        let last = count - 1
        if index != last { row(index).update(from: row(last), count: width) }
        count -= 1
    }

    /// Gives memory back so that capacity equals count.
    mutating func shrinkToFit() {
        guard capacity > count + 1 else { return }
        let newCapacity = max(count, 1)
        let smaller = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity * max(width, 1))
        smaller.moveInitialize(from: base, count: count * width)
        base.deallocate()
        base = smaller
        capacity = newCapacity
    }

    /// Bytes held.
    var allocatedBytes: Int { capacity * width * MemoryLayout<Float>.stride }
}
