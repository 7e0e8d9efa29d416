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
}
