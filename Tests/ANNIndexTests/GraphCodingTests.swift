import Foundation
import SearchCore
import Testing
import _TestSupport

@testable import ANNIndex

@Suite("LZ4 blocks and graph coding")
struct GraphCodingTests {
    @Test("LZ4 blocks round-trip compressible, incompressible and empty data at several block sizes")
    func lz4RoundTrip() throws {
        var rng = SeededGenerator(seed: 2)
        let noise = (0..<100_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let text = Array(String(repeating: "nearest neighbours ", count: 5_000).utf8)
        for data in [noise, text, [], [7]] {
            for blockSize in [1, 1000, 64 << 10, 1 << 20] {
                let coded = LZ4Blocks.encode(data, blockSize: blockSize)
                let back = try coded.withUnsafeBytes { (raw) throws(SearchError) in try LZ4Blocks.decode(raw) }
                #expect(back == data)
            }
        }
        #expect(LZ4Blocks.encode(text).count < text.count / 10)
        #expect(LZ4Blocks.encode(noise).count <= noise.count + 8 * 2 + 4)
    }

    @Test("damaged LZ4 blocks are errors, never a crash or wrong bytes")
    func lz4Damage() throws {
        let text = Array(String(repeating: "graph links compress ", count: 500).utf8)
        let coded = LZ4Blocks.encode(text, blockSize: 1000)
        for i in 0..<coded.count {
            var bytes = coded
            bytes[i] ^= 0x41
            do {
                let back = try bytes.withUnsafeBytes { (raw) throws(SearchError) in try LZ4Blocks.decode(raw) }
                // LZ4 has no checksum of its own (the segment's CRC covers it): a flip
                // inside a literal can decode to other bytes of the same length.
                #expect(back.count == text.count)
            } catch {
                #expect((error as? SearchError)?.code == .corruptData)
            }
        }
        for cut in 0..<coded.count {
            #expect(throws: SearchError.self) {
                _ = try Array(coded.prefix(cut)).withUnsafeBytes { (raw) throws(SearchError) in try LZ4Blocks.decode(raw) }
            }
        }
        #expect(throws: SearchError.self) {
            _ = try LZ4Blocks.encode(text).withUnsafeBytes { (raw) throws(SearchError) in try LZ4Blocks.decode(raw, limit: 100) }
        }
    }

    /// A graph like a reordered HNSW level 0: most links point to nearby nodes.
    static func localGraph(nodes: Int, degree: Int, seed: UInt64) -> [[UInt32]] {
        var rng = SeededGenerator(seed: seed)
        return (0..<nodes).map { node in
            var set = Set<UInt32>()
            while set.count < degree {
                let far = Int.random(in: 0..<10, using: &rng) == 0
                let target = far ? Int.random(in: 0..<nodes, using: &rng) : node + Int.random(in: -200...200, using: &rng)
                if target >= 0 && target < nodes && target != node { set.insert(UInt32(target)) }
            }
            return Array(set)
        }
    }

    @Test("neighbour lists round-trip (as sets, sorted) and local graphs compress well")
    func graphRoundTrip() throws {
        let graph = Self.localGraph(nodes: 5_000, degree: 32, seed: 9)
        let coded = GraphCoding.encodeCompressed(graph)
        let back = try coded.withUnsafeBytes { (raw) throws(SearchError) in
            try GraphCoding.decodeCompressed(raw, nodeCount: 5_000, maxDegree: 32)
        }
        #expect(back == graph.map { $0.sorted() })
        let raw = graph.reduce(0) { $0 + 4 * (1 + $1.count) }
        let ratio = Double(raw) / Double(coded.count)
        #expect(ratio > 1.5, "compression ratio \(ratio)")
        let empty = try GraphCoding.encode([[], [], []]).withUnsafeBytes { (raw) throws(SearchError) in
            try GraphCoding.decode(raw, nodeCount: 3, maxDegree: 4)
        }
        #expect(empty == [[], [], []])
    }

    @Test("a coding that names a node outside the graph, exceeds the degree or is cut short is refused")
    func graphDamage() throws {
        let coded = GraphCoding.encode([[1, 2], [0], [0, 1]])
        #expect(throws: SearchError.self) {  // node 2's neighbours do not exist in a 2-node graph
            _ = try coded.withUnsafeBytes { (raw) throws(SearchError) in try GraphCoding.decode(raw, nodeCount: 2, maxDegree: 2) }
        }
        #expect(throws: SearchError.self) {
            _ = try coded.withUnsafeBytes { (raw) throws(SearchError) in try GraphCoding.decode(raw, nodeCount: 3, maxDegree: 1) }
        }
        for cut in 0..<coded.count {
            #expect(throws: SearchError.self) {
                _ = try Array(coded.prefix(cut)).withUnsafeBytes { (raw) throws(SearchError) in
                    try GraphCoding.decode(raw, nodeCount: 3, maxDegree: 2)
                }
            }
        }
        var rng = SeededGenerator(seed: 4)
        for _ in 0..<2_000 {
            let junk = (0..<Int.random(in: 0..<40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            do {
                let lists = try junk.withUnsafeBytes { (raw) throws(SearchError) in try GraphCoding.decode(raw, nodeCount: 5, maxDegree: 4) }
                #expect(lists.count == 5 && lists.allSatisfy { $0.count <= 4 && $0.allSatisfy { $0 < 5 } })
            } catch {
                #expect((error as? SearchError)?.code == .corruptData)
            }
        }
    }
}
