import SearchCore
import Tensor
import Synchronization

/// An approximate nearest-neighbour index: a Hierarchical Navigable Small
/// World graph (Malkov & Yashunin, 2018), with float32, float16 or int8
/// storage, filters, deletes and parallel construction.
///
/// ```swift
/// var configuration = HNSWIndex.Configuration()   // M = 16, efConstruction = 200
/// configuration.buildThreads = 2
/// let index = try HNSWIndex(dimension: 512, metric: .innerProduct, configuration: configuration)
/// try index.add(vectors, ids: ids)
/// let hits = try index.search(query, k: 10)
/// let inStock = try index.search(query, k: 10, filter: AllowList(stockedIDs))
/// ```
///
/// - Searches return exactly `min(k, allowed live vectors)` hits: below
///   ``Configuration/exactScanBelowSelectivity`` the allowed vectors are
///   scanned exactly; above it the graph is traversed with the filter applied
///   to results only, and a traversal that finds fewer than `k` falls back to
///   the scan.
/// - Deleted vectors are never returned; they stay in the graph as waypoints
///   until ``compact()`` rebuilds it without them. Re-adding an identifier
///   replaces its vector (the old node becomes a tombstone).
/// - Searching an empty index returns no hits.
/// - Concurrency: any number of searches run at once under a shared lock; an
///   `add`, `remove` or `compact` takes it exclusively (a large `add` in
///   chunks of 4,096, so searches interleave). No search allocates once the
///   scratch pool is warm, when it writes into caller buffers
///   (``search(batch:k:ef:filter:into:counts:)``).
public final class HNSWIndex: VectorIndex {
    /// The number of components of every vector.
    public let dimension: Int
    /// How vectors are compared.
    public let metric: Metric
    /// The knobs this index was made with.
    public let configuration: Configuration

    let kernels: Kernels
    let lock = ReadWriteLock()
    // Guarded by `lock`: replaced only by `compact()` under the exclusive lock.
    nonisolated(unsafe) var graph: Graph

    enum Graph {
        case float32(HNSWCore<Float32Codec>)
        case float16(HNSWCore<Float16Codec>)
        case int8(HNSWCore<Int8Codec>)
    }

    /// An empty index.
    ///
    /// - Throws: ``SearchError/Code/invalidArgument`` for `dimension < 1` or a
    ///   configuration that fails ``Configuration/validate()``.
    public init(
        dimension: Int, metric: Metric, configuration: Configuration = Configuration(), kernels: Kernels = .active
    ) throws(SearchError) {
        guard dimension > 0 && dimension <= 65_536 else {
            throw SearchError(.invalidArgument, "dimension must be in 1...65536; got \(dimension)")
        }
        try configuration.validate()
        self.dimension = dimension
        self.metric = metric
        self.configuration = configuration
        self.kernels = kernels
        graph = Self.makeGraph(dimension: dimension, metric: metric, configuration: configuration, kernels: kernels)
    }

    static func makeGraph(dimension: Int, metric: Metric, configuration: Configuration, kernels: Kernels) -> Graph {
        switch configuration.encoding {
        case .float32:
            .float32(HNSWCore(dimension: dimension, metric: metric, configuration: configuration,
                              codec: Float32Codec(dimension: dimension, metric: metric, kernels: kernels), kernels: kernels))
        case .float16:
            .float16(HNSWCore(dimension: dimension, metric: metric, configuration: configuration,
                              codec: Float16Codec(dimension: dimension, metric: metric, kernels: kernels), kernels: kernels))
        case .int8:
            .int8(HNSWCore(dimension: dimension, metric: metric, configuration: configuration,
                           codec: Int8Codec(dimension: dimension, metric: metric, kernels: kernels), kernels: kernels))
        }
    }

    /// The number of live vectors.
    public var count: Int {
        lock.withReadLock {
            switch graph {
            case .float32(let g): g.liveCount
            case .float16(let g): g.liveCount
            case .int8(let g): g.liveCount
            }
        }
    }

    /// Whether `id` is stored and live.
    public func contains(_ id: VectorID) -> Bool {
        lock.withReadLock {
            switch graph {
            case .float32(let g): g.slots[id] != nil
            case .float16(let g): g.slots[id] != nil
            case .int8(let g): g.slots[id] != nil
            }
        }
    }

    // MARK: Writing

    /// Adds `ids.count` vectors laid end to end; re-adding an id replaces its vector.
    ///
    /// Runs on ``Configuration/buildThreads`` threads; with one thread the
    /// graph is the same, byte for byte, every time the same vectors are
    /// added in the same order.
    ///
    /// - Throws: ``SearchError`` with ``SearchError/Code/dimensionMismatch``,
    ///   ``SearchError/Code/invalidVector`` (NaN, ±Inf, zero under cosine) or
    ///   ``SearchError/Code/duplicateID`` (an id twice in `ids`); nothing is
    ///   added when it throws.
    /// - Complexity: about O(n · log N · efConstruction · `dimension`) for n
    ///   vectors into N, whatever the batch size: adding one vector at a time
    ///   costs the same per vector as adding all at once. Keeping every vector
    ///   reachable costs O(M_max0) per vector (it keeps an *anchor* link, see
    ///   `HNSWCore+Repair.swift`), not a pass over the graph; growing storage
    ///   is amortised O(1) per vector.
    public func add(_ vectors: UnsafeBufferPointer<Float>, ids: [VectorID]) throws(SearchError) {
        try VectorInput.validate(vectors, rows: ids.count, dimension: dimension, metric: metric, kernels: kernels)
        try VectorInput.checkUnique(ids)
        guard let source = vectors.baseAddress, !ids.isEmpty else { return }
        let rows = UnsafeMutablePointer<Float>.allocate(capacity: vectors.count)
        defer { rows.deallocate() }
        for r in 0..<ids.count {
            VectorInput.copy(
                source + r * dimension, to: rows + r * dimension, count: dimension, normalize: metric == .cosine,
                kernels: kernels)
        }
        let chunk = 4096
        lock.withWriteLock {
            // Room for the whole batch at once, so capacity is exact rather than grown by halves.
            switch graph {
            case .float32(let g): g.reserve(g.nodeCount + ids.count)
            case .float16(let g): g.reserve(g.nodeCount + ids.count)
            case .int8(let g): g.reserve(g.nodeCount + ids.count)
            }
        }
        ids.withUnsafeBufferPointer { ids in
            var start = 0
            while start < ids.count {
                let end = min(start + chunk, ids.count)
                let part = UnsafeBufferPointer(rebasing: ids[start..<end])
                lock.withWriteLock {
                    switch graph {
                    case .float32(let g): g.add(rows: rows + start * dimension, ids: part)
                    case .float16(let g): g.add(rows: rows + start * dimension, ids: part)
                    case .int8(let g): g.add(rows: rows + start * dimension, ids: part)
                    }
                }
                start = end
            }
        }
    }

    /// Deletes vectors; returns how many of `ids` were live. A deleted vector
    /// is never returned again; its memory comes back with ``compact()``.
    ///
    /// - Complexity: O(`ids.count`).
    @discardableResult
    public func remove(_ ids: [VectorID]) throws(SearchError) -> Int {
        lock.withWriteLock {
            switch graph {
            case .float32(let g): g.remove(ids)
            case .float16(let g): g.remove(ids)
            case .int8(let g): g.remove(ids)
            }
        }
    }

    /// Rebuilds the graph from the live vectors only, giving back the memory
    /// of deleted ones. Vectors come from the kept float32 copies where there
    /// are some, else from the codes (so f16/i8 without floats re-encode
    /// their own decoding: the same codes for f16, within one step for i8).
    ///
    /// - Complexity: as adding every live vector again.
    public func compact() {
        lock.withWriteLock {
            let fresh = Self.makeGraph(dimension: dimension, metric: metric, configuration: configuration, kernels: kernels)
            switch (graph, fresh) {
            case (.float32(let old), .float32(let new)): old.copyLive(into: new)
            case (.float16(let old), .float16(let new)): old.copyLive(into: new)
            case (.int8(let old), .int8(let new)): old.copyLive(into: new)
            default: preconditionFailure("compact made a graph of another encoding")
            }
            graph = fresh
        }
    }

    /// Level-0 list entries read or written so far to keep every node
    /// reachable; for tests, which check that it grows by a constant per
    /// added vector, not with the size of the graph.
    var reachabilityWork: Int {
        lock.withReadLock {
            switch graph {
            case .float32(let g): g.reachabilityWork.load(ordering: .relaxed)
            case .float16(let g): g.reachabilityWork.load(ordering: .relaxed)
            case .int8(let g): g.reachabilityWork.load(ordering: .relaxed)
            }
        }
    }

    // MARK: Memory

    /// What an index holds in memory, in bytes.
    public struct MemoryFootprint: Sendable, Hashable {
        /// Neighbour lists of every layer, identifiers, levels and tombstones.
        public var graph: Int
        /// The stored codes (f32, f16 or i8 with their scales).
        public var codes: Int
        /// float32 vectors kept for re-scoring (0 for f32 storage or when off).
        public var rescoring: Int
        /// Vector slots the figures are for (the storage's capacity, at least
        /// the vectors added, deleted ones included).
        public var slots: Int
        /// All of it.
        public var total: Int { graph + codes + rescoring }
        /// ``total`` per slot: what one more vector costs in this encoding.
        public var bytesPerVector: Double { Double(total) / Double(max(slots, 1)) }
    }

    /// The memory one vector takes in an index of `dimension` components
    /// built with `configuration`, as ``MemoryFootprint/bytesPerVector``
    /// reports it once built: its level-0 block (code and list), float32
    /// copy if kept, identifier, level, tombstone and anchor words, and the
    /// expected share of upper-layer blocks (a fraction 1/(M − 1) of a node
    /// has them under the default *m_L*, M + 1 words a layer).
    ///
    /// ```swift
    /// var configuration = HNSWIndex.Configuration()
    /// configuration.encoding = .int8
    /// configuration.keepsFloat32ForRescoring = false
    /// let bytes = HNSWIndex.bytesPerVector(dimension: 384, configuration: configuration)
    /// ```
    public static func bytesPerVector(dimension: Int, metric: Metric = .innerProduct, configuration: Configuration) -> Double {
        let core: Double = switch makeGraph(dimension: dimension, metric: metric, configuration: configuration, kernels: .active) {
        case .float32(let g): g.bytesPerVector()
        case .float16(let g): g.bytesPerVector()
        case .int8(let g): g.bytesPerVector()
        }
        return core
    }

    /// The memory held now (capacity, not just live vectors; the id
    /// dictionary is not counted).
    public var memory: MemoryFootprint {
        lock.withReadLock {
            let m: (graph: Int, codes: Int, rescoring: Int, slots: Int) = switch graph {
            case .float32(let g): g.memory()
            case .float16(let g): g.memory()
            case .int8(let g): g.memory()
            }
            return MemoryFootprint(graph: m.graph, codes: m.codes, rescoring: m.rescoring, slots: m.slots)
        }
    }
}

extension HNSWCore {
    /// Adds rows under the exclusive lock: replaced ids become tombstones first.
    func add(rows: UnsafePointer<Float>, ids newIDs: UnsafeBufferPointer<VectorID>) {
        for id in newIDs {
            if let old = slots.removeValue(forKey: id) {
                deleted[Int(old)] = 1
                liveCount -= 1
            }
        }
        insert(rows: rows, ids: newIDs, threads: configuration.buildThreads)
    }

    /// Tombstones `ids`; returns how many were live.
    func remove(_ removed: [VectorID]) -> Int {
        var count = 0
        for id in removed {
            guard let slot = slots.removeValue(forKey: id) else { continue }
            deleted[Int(slot)] = 1
            liveCount -= 1
            count += 1
        }
        return count
    }

    /// Inserts every live vector, in slot order, into `fresh`.
    func copyLive(into fresh: HNSWCore<Codec>) {
        let batch = 4096
        let rows = UnsafeMutablePointer<Float>.allocate(capacity: batch * dimension)
        defer { rows.deallocate() }
        var batchIDs: [VectorID] = []
        batchIDs.reserveCapacity(batch)
        func flush() {
            batchIDs.withUnsafeBufferPointer { fresh.insert(rows: rows, ids: $0, threads: configuration.buildThreads) }
            batchIDs.removeAll(keepingCapacity: true)
        }
        for s in 0..<nodeCount where deleted[s] == 0 {
            let row = rows + batchIDs.count * dimension
            if keepsExact {
                row.update(from: exactRow(UInt32(s)), count: dimension)
            } else {
                codec.decode(code(UInt32(s)), into: row)
            }
            batchIDs.append(ids[s])
            if batchIDs.count == batch { flush() }
        }
        if !batchIDs.isEmpty { flush() }
    }
}
