import CSearchKernels
import SearchCore
import Synchronization
import Tensor

/// A segment opened for search: its HNSW graph over codes read in place from
/// the mapping, with its identifiers and id map.
///
/// An enumeration over the codecs rather than an existential, so every call
/// reaches a ``MappedGraph`` of a concrete codec and the search loop is
/// specialised for it (a generic class called through a protocol would run
/// unspecialised, with a witness call per distance).
enum SegmentGraph: Sendable {
    case float32(MappedGraph<Float32Codec>)
    case float16(MappedGraph<Float16Codec>)
    case int8(MappedGraph<Int8Codec>)

    /// Opens the graph of a validated segment.
    ///
    /// - Throws: ``SearchError/Code/corruptData`` naming the file when a
    ///   section is missing, has the wrong size, or does not decode.
    init(_ reader: SegmentReader, kernels: Kernels) throws(SearchError) {
        let (d, metric) = (reader.header.dimension, reader.header.metric)
        switch reader.header.storage {
        case .float32: self = .float32(try MappedGraph(reader, codec: Float32Codec(dimension: d, metric: metric, kernels: kernels), kernels: kernels))
        case .float16: self = .float16(try MappedGraph(reader, codec: Float16Codec(dimension: d, metric: metric, kernels: kernels), kernels: kernels))
        case .int8: self = .int8(try MappedGraph(reader, codec: Int8Codec(dimension: d, metric: metric, kernels: kernels), kernels: kernels))
        }
    }

    var reader: SegmentReader {
        switch self {
        case .float32(let g): g.reader
        case .float16(let g): g.reader
        case .int8(let g): g.reader
        }
    }

    /// Rows, live or deleted.
    var count: Int { reader.header.count }

    /// The identifier of `row`.
    func id(_ row: Int) -> VectorID {
        switch self {
        case .float32(let g): g.id(row)
        case .float16(let g): g.id(row)
        case .int8(let g): g.id(row)
        }
    }

    /// The row holding `id` when the segment was written, if any (see ``MappedGraph/row(of:)``).
    func row(of id: VectorID) -> Int? {
        switch self {
        case .float32(let g): g.row(of: id)
        case .float16(let g): g.row(of: id)
        case .int8(let g): g.row(of: id)
        }
    }

    /// The float32 vector of `row`: the original where kept, else the decoded code.
    func vector(_ row: Int, into out: UnsafeMutablePointer<Float>) {
        switch self {
        case .float32(let g): g.vector(row, into: out)
        case .float16(let g): g.vector(row, into: out)
        case .int8(let g): g.vector(row, into: out)
        }
    }

    /// The `k` nearest rows live in `live` and allowed by `filter`; `query` is
    /// normalised under cosine. Throws when a part of the graph it needed is damaged.
    func search<Filter: SearchFilter>(
        _ query: UnsafePointer<Float>, k: Int, ef: Int, filter: Filter, live: LiveSet, liveCount: Int
    ) throws(SearchError) -> [SearchHit] {
        switch self {
        case .float32(let g): try g.search(query, k: k, ef: ef, filter: filter, live: live, liveCount: liveCount)
        case .float16(let g): try g.search(query, k: k, ef: ef, filter: filter, live: live, liveCount: liveCount)
        case .int8(let g): try g.search(query, k: k, ef: ef, filter: filter, live: live, liveCount: liveCount)
        }
    }

    /// Bytes of level-0 lists decoded so far.
    var decodedGraphBytes: Int {
        switch self {
        case .float32(let g): g.levelZero.decodedBytes
        case .float16(let g): g.levelZero.decodedBytes
        case .int8(let g): g.levelZero.decodedBytes
        }
    }

    /// Decodes the whole graph now.
    func decodeGraph() throws(SearchError) {
        switch self {
        case .float32(let g): try g.levelZero.decodeAll()
        case .float16(let g): try g.levelZero.decodeAll()
        case .int8(let g): try g.levelZero.decodeAll()
        }
    }
}
