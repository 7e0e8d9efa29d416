import SearchCore
import Tensor

/// An exact nearest-neighbour index: every query is compared with every
/// stored vector.
///
/// It is the oracle the approximate indices are measured against, and the
/// right choice for small collections (up to some tens of thousands of
/// vectors), where a scan with the one-to-many SIMD kernels is fast enough and
/// recall is exactly 1. Batches of queries run as one matrix product
/// (`BLAS.sgemm`) per block of stored rows.
///
/// ```swift
/// let index = FlatIndex(dimension: 512, metric: .innerProduct)
/// try index.add(vectors, ids: ids)
/// let hits = try index.search(query, k: 10)
/// let allowed = try index.search(query, k: 10, filter: AllowList([3, 5, 8]))
/// ```
///
/// Vectors are stored as float32 rows; under ``Metric/cosine`` they are
/// normalised once on the way in, and queries are normalised before the scan.
/// A delete moves the last row into the hole, so memory stays dense.
///
/// Searches take a shared lock and run concurrently; `add` and `remove` take
/// it exclusively.
public final class FlatIndex: VectorIndex {
    /// The number of components of every vector.
    public let dimension: Int
    /// How vectors are compared.
    public let metric: Metric

    let kernels: Kernels
    let lock = ReadWriteLock()
    // Guarded by `lock`: read under the shared lock, changed under the exclusive one.
    nonisolated(unsafe) var state: FlatState

    /// An empty index of `dimension`-component vectors.
    ///
    /// - Precondition: `dimension > 0`.
    public init(dimension: Int, metric: Metric, kernels: Kernels = .active) {
        precondition(dimension > 0, "a FlatIndex needs dimension > 0; got \(dimension)")
        self.dimension = dimension
        self.metric = metric
        self.kernels = kernels
        state = FlatState(dimension: dimension)
    }

    /// The number of stored vectors.
    public var count: Int { lock.withReadLock { state.rows.count } }

    /// Whether `id` is stored.
    public func contains(_ id: VectorID) -> Bool { lock.withReadLock { state.slots[id] != nil } }

    /// Adds `ids.count` vectors laid end to end; re-adding an id replaces its vector.
    ///
    /// - Throws: ``SearchError`` (``SearchError/Code/dimensionMismatch``,
    ///   ``SearchError/Code/invalidVector``, ``SearchError/Code/duplicateID`` for an id
    ///   twice in `ids`); nothing is added when it throws.
    /// - Complexity: O(`ids.count` × `dimension`).
    public func add(_ vectors: UnsafeBufferPointer<Float>, ids: [VectorID]) throws(SearchError) {
        try VectorInput.validate(vectors, rows: ids.count, dimension: dimension, metric: metric, kernels: kernels)
        try VectorInput.checkUnique(ids)
        guard let source = vectors.baseAddress else { return }
        lock.withWriteLock {
            state.rows.reserve(state.rows.count + ids.count)
            for (r, id) in ids.enumerated() {
                let row: UnsafeMutablePointer<Float>
                if let slot = state.slots[id] {
                    row = state.rows.row(slot)
                } else {
                    state.slots[id] = state.rows.count
                    state.ids.append(id)
                    row = state.rows.append()
                }
                VectorInput.copy(
                    source + r * dimension, to: row, count: dimension, normalize: metric == .cosine, kernels: kernels)
                let slot = state.slots[id]!
                let norm = kernels.sumOfSquares(row, count: dimension)
                if slot < state.squaredNorms.count { state.squaredNorms[slot] = norm } else { state.squaredNorms.append(norm) }
            }
        }
    }

    /// Deletes vectors; returns how many of `ids` were stored.
    ///
    /// - Complexity: O(`ids.count` × `dimension`).
    @discardableResult
    public func remove(_ ids: [VectorID]) throws(SearchError) -> Int {
        lock.withWriteLock {
            var removed = 0
            for id in ids {
                guard let slot = state.slots.removeValue(forKey: id) else { continue }
                let last = state.rows.count - 1
                state.rows.swapRemove(slot)
                if slot != last {
                    let moved = state.ids[last]
                    state.ids[slot] = moved
                    state.squaredNorms[slot] = state.squaredNorms[last]
                    state.slots[moved] = slot
                }
                state.ids.removeLast()
                state.squaredNorms.removeLast()
                removed += 1
            }
            return removed
        }
    }

    /// Gives back memory left over after deletes.
    public func compact() {
        lock.withWriteLock {
            state.rows.shrinkToFit()
            state.ids = Array(state.ids)
            state.squaredNorms = Array(state.squaredNorms)
        }
    }

    /// Bytes held by vectors, norms and identifiers (not the id dictionary).
    public var memoryBytes: Int {
        lock.withReadLock {
            state.rows.allocatedBytes + state.ids.capacity * MemoryLayout<VectorID>.stride
                + state.squaredNorms.capacity * MemoryLayout<Float>.stride
        }
    }
}

/// The mutable contents of a ``FlatIndex``.
struct FlatState: ~Copyable {
    var rows: RowStore
    var ids: [VectorID] = []
    var squaredNorms: [Float] = []
    var slots: [VectorID: Int] = [:]

    init(dimension: Int) { rows = RowStore(width: dimension) }
}
