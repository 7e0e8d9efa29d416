import SearchCore
import Tensor

/// One segment file opened read-only for search — for serving an index built
/// elsewhere, or inspecting what a ``PersistentIndex`` wrote. Every row is
/// taken as live (deletions live in the persistent index's manifest).
///
/// A ``VectorIndex`` that cannot be written: ``add(_:ids:)`` and
/// ``remove(_:)`` throw ``SearchError/Code/invalidArgument``.
///
/// ```swift
/// let segment = try SegmentIndex(path: "/data/vectors/seg-000001.mmsseg", verification: .structure)
/// let hits = try segment.search(query, k: 10)
/// let wider = try segment.search(query, k: 10, ef: 128)
/// ```
public final class SegmentIndex: VectorIndex {
    /// The open file.
    public let reader: SegmentReader
    let graph: SegmentGraph
    let kernels: Kernels
    private let all: LiveSet

    /// The candidate list size searches use unless given one: the HNSW
    /// configuration's default ``HNSWIndex/Configuration/efSearch``.
    public static let defaultEF = HNSWIndex.Configuration().efSearch

    /// Opens, validates and maps a segment with a graph.
    ///
    /// - Throws: ``SearchError`` as ``SegmentReader/init(path:verification:)``,
    ///   and ``SearchError/Code/corruptData`` when the graph's sections are
    ///   missing or damaged.
    public init(path: String, verification: SegmentReader.Verification = .full, kernels: Kernels = .active) throws(SearchError) {
        reader = try SegmentReader(path: path, verification: verification)
        graph = try SegmentGraph(reader, kernels: kernels)
        self.kernels = kernels
        all = LiveSet(allLive: reader.header.count)
    }

    /// Components per vector.
    public var dimension: Int { reader.header.dimension }

    /// How vectors are compared.
    public var metric: Metric { reader.header.metric }

    /// Rows in the segment.
    public var count: Int { graph.count }

    /// Bytes of level-0 lists decoded so far.
    public var decodedGraphBytes: Int { graph.decodedGraphBytes }

    /// Decodes the whole graph now rather than as searches reach it.
    public func decodeGraph() throws(SearchError) { try graph.decodeGraph() }

    /// The identifier of `row`. Precondition: `0 <= row < count`.
    public func id(ofRow row: Int) -> VectorID {
        precondition(row >= 0 && row < count, "row \(row) outside a segment of \(count)")
        return graph.id(row)
    }

    /// Refuses: a segment is immutable.
    ///
    /// - Throws: ``SearchError/Code/invalidArgument``, always.
    public func add(_ vectors: UnsafeBufferPointer<Float>, ids: [VectorID]) throws(SearchError) {
        throw Self.readOnly()
    }

    /// Refuses: a segment is immutable.
    ///
    /// - Throws: ``SearchError/Code/invalidArgument``, always.
    @discardableResult
    public func remove(_ ids: [VectorID]) throws(SearchError) -> Int {
        throw Self.readOnly()
    }

    private static func readOnly() -> SearchError {
        SearchError(.invalidArgument, "a SegmentIndex is read-only; open a PersistentIndex to write")
    }

    /// The `k` nearest rows allowed by `filter`, closest first, with candidate
    /// list ``defaultEF``.
    ///
    /// - Throws: ``SearchError`` for a bad query or `k`, and
    ///   ``SearchError/Code/corruptData`` when a graph block is damaged.
    /// - Complexity: about O(ef · M0 · log N · `dimension`).
    public func search<Filter: SearchFilter>(
        _ query: UnsafeBufferPointer<Float>, k: Int, filter: Filter
    ) throws(SearchError) -> [SearchHit] {
        try search(query, k: k, ef: Self.defaultEF, filter: filter)
    }

    /// The `k` nearest rows allowed by `filter`, closest first, searching with
    /// a candidate list of `ef` (*ef* in the HNSW paper).
    ///
    /// - Throws: ``SearchError`` for a bad query, `k` or `ef`, and
    ///   ``SearchError/Code/corruptData`` when a graph block is damaged.
    /// - Complexity: about O(ef · M0 · log N · `dimension`).
    public func search<Filter: SearchFilter>(
        _ query: UnsafeBufferPointer<Float>, k: Int, ef: Int, filter: Filter
    ) throws(SearchError) -> [SearchHit] {
        try SearchBounds.check(k: k, ef: ef)
        let header = reader.header
        try VectorInput.validate(query, rows: 1, dimension: header.dimension, metric: header.metric, kernels: kernels, what: "query")
        var prepared = Array(query)
        if header.metric == .cosine { _ = prepared.withUnsafeMutableBufferPointer { VectorMath.l2Normalize($0) } }
        return try prepared.withUnsafeBufferPointer { (q) throws(SearchError) -> [SearchHit] in
            try graph.search(q.baseAddress!, k: k, ef: ef, filter: filter, live: all, liveCount: all.count)
        }
    }

    /// The `k` nearest rows allowed by `filter`, closest first, with candidate list `ef`.
    ///
    /// - Throws: as ``search(_:k:ef:filter:)-(UnsafeBufferPointer<Float>,_,_,_)``.
    public func search<Filter: SearchFilter>(
        _ query: [Float], k: Int, ef: Int, filter: Filter = NoFilter()
    ) throws(SearchError) -> [SearchHit] {
        try query.withUnsafeBufferPointer { (q) throws(SearchError) -> [SearchHit] in try search(q, k: k, ef: ef, filter: filter) }
    }
}
