import Foundation
import SearchCore
import Testing

@testable import ANNIndex

/// A committed segment file, so a change to the format — in the writer or the
/// reader — cannot go unnoticed: either this file stops reading back as
/// below, or the writer stops producing it byte for byte.
@Suite("Golden segment file (format version 1)")
struct GoldenSegmentTests {
    static var url: URL {
        Bundle.module.url(forResource: "Fixtures/golden-v1.mmsseg", withExtension: nil)
            ?? Bundle.module.bundleURL.appendingPathComponent("Fixtures/golden-v1.mmsseg")
    }

    /// What the golden file holds: three 4-component float32 vectors under
    /// inner product, their ids, and a compressed graph.
    static func writer() -> SegmentWriter {
        var writer = SegmentWriter(
            header: SegmentHeader(metric: .innerProduct, storage: .float32, dimension: 4, count: 3, seed: 20_261_127))
        var vectors: [UInt8] = []
        for v: Float in [1, 0, 0, 0, 0, 1, 0, 0, 0.5, 0.5, 0.5, 0.5] { LittleEndian.append(v.bitPattern, to: &vectors) }
        writer.add(.vectors, bytes: vectors)
        var ids: [UInt8] = []
        for id: UInt64 in [10, 20, 30] { LittleEndian.append(id, to: &ids) }
        writer.add(.ids, bytes: ids)
        writer.add(.graphLevel0, encoding: .lz4Blocks, bytes: GraphCoding.encodeCompressed([[1, 2], [0, 2], [0, 1]]))
        return writer
    }

    @Test("the committed file reads back as written")
    func reads() throws {
        let reader = try SegmentReader(path: Self.url.path)
        #expect(reader.header == SegmentHeader(metric: .innerProduct, storage: .float32, dimension: 4, count: 3, seed: 20_261_127))
        #expect(reader.sections.map(\.kind) == [.vectors, .ids, .graphLevel0])
        #expect(reader.sections.map(\.offset) == [64, 128, 192])
        let floats = try reader.section(.vectors).bindMemory(to: Float.self)
        #expect(Array(floats) == [1, 0, 0, 0, 0, 1, 0, 0, 0.5, 0.5, 0.5, 0.5])
        #expect(try PersistentIndex.readIDs(reader) == [10, 20, 30])
        let graph = try GraphCoding.decodeCompressed(try reader.section(.graphLevel0), nodeCount: 3, maxDegree: 4)
        #expect(graph == [[1, 2], [0, 2], [0, 1]])
    }

    @Test("the writer still produces the committed bytes")
    func writes() throws {
        let committed = [UInt8](try Data(contentsOf: Self.url))
        #expect(Self.writer().bytes() == committed)
    }

    static var graphURL: URL {
        Bundle.module.url(forResource: "Fixtures/golden-v1-graph.mmsseg", withExtension: nil)
            ?? Bundle.module.bundleURL.appendingPathComponent("Fixtures/golden-v1-graph.mmsseg")
    }

    /// 48 vectors of small integers, so every distance is exact in float32
    /// whatever the order of summation, and the graph is the same on every CPU.
    static let graphVectors: [Float] = {
        var values: [Float] = []
        for row in 0..<48 {
            for column in 0..<8 {
                let mixed: Int = (row * 5 + column * 3 + row * column) % 7
                values.append(Float(mixed - 3))
            }
        }
        return values
    }()

    /// What the golden graph file holds: those vectors under squared L2 in an
    /// HNSW graph with M = 4, efConstruction 16, seed 7, one build thread,
    /// written breadth-first in level-0 blocks of 16 rows; ids 1000 + i.
    static func graphIndex() throws -> HNSWIndex {
        var configuration = HNSWIndex.Configuration()
        configuration.m = 4
        configuration.efConstruction = 16
        configuration.seed = 7
        configuration.buildThreads = 1
        let index = try HNSWIndex(dimension: 8, metric: .squaredL2, configuration: configuration)
        try index.add(graphVectors, ids: (0..<48).map { VectorID(UInt64(1_000 + $0)) })
        return index
    }

    @Test("the committed graph segment opens, and answers as the graph it was written from")
    func graphReads() throws {
        let segment = try SegmentIndex(path: Self.graphURL.path)
        #expect(segment.reader.header == SegmentHeader(metric: .squaredL2, storage: .float32, dimension: 8, count: 48, seed: 7))
        #expect(
            segment.reader.sections.map(\.kind)
                == [.metadata, .graphUpper, .graphLevel0, .graphLevel0Index, .vectors, .ids, .idMap])
        let metadata = try SegmentGraphMetadata.decode(
            try segment.reader.section(.metadata), header: segment.reader.header, path: "golden")
        #expect(metadata.m == 4 && metadata.m0 == 8 && metadata.blockRows == 16 && metadata.order == .breadthFirst)
        #expect(metadata.codeBytes == 32 && metadata.codeStride == 64)
        let memory = try Self.graphIndex()
        let exact = FlatIndex(dimension: 8, metric: .squaredL2)
        try exact.add(Self.graphVectors, ids: (0..<48).map { VectorID(UInt64(1_000 + $0)) })
        for q in 0..<48 {
            let query = Array(Self.graphVectors[(q * 8)..<((q + 1) * 8)])
            let hits = try segment.search(query, k: 5, ef: 48)
            #expect(hits.map(\.distance) == (try exact.search(query, k: 5).map(\.distance)), "query \(q)")
            #expect(hits.map(\.distance) == (try memory.search(query, k: 5, ef: 48).map(\.distance)), "query \(q)")
        }
    }

    @Test("the writer still produces the committed graph segment")
    func graphWrites() throws {
        let (writer, _) = try #require(try Self.graphIndex().segment(reorder: true, blockRows: 16))
        let written = writer.bytes()
        if let target = ProcessInfo.processInfo.environment["MMS_WRITE_GOLDEN"] {
            // Regenerating after a deliberate format change: MMS_WRITE_GOLDEN=<path to Fixtures>.
            try Data(written).write(to: URL(fileURLWithPath: target + "/golden-v1-graph.mmsseg"))
        }
        #expect(written == [UInt8](try Data(contentsOf: Self.graphURL)))
    }
}
