import Evaluation
import Foundation
import SearchCore
import Testing
import _TestSupport

@testable import ANNIndex

/// Segments that carry an HNSW graph: written from an in-memory graph,
/// searched in place from the mapping.
@Suite("Graph segments")
struct SegmentGraphTests {
    static func path() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("mms-graph-\(UUID().uuidString).mmsseg").path
    }

    /// Writes `index` as a segment file and returns its path.
    static func write(_ index: HNSWIndex, reorder: Bool = true, blockRows: Int = 64) throws -> String {
        let path = Self.path()
        let (writer, _) = try #require(index.segment(reorder: reorder, blockRows: blockRows))
        try writer.write(to: path)
        return path
    }

    static func recall(_ segment: SegmentIndex, _ flat: FlatIndex, data: ClusteredData = HNSWFixture.data, k: Int = 10) throws -> Double {
        var found: [[SearchHit]] = []
        var exact: [[SearchHit]] = []
        for q in 0..<data.queryCount {
            found.append(try segment.search(data.query(q), k: k))
            exact.append(try flat.search(data.query(q), k: k))
        }
        return try Recall.atK(found, exact: exact, k: k).mean
    }

    @Test("a mapped graph finds what the in-memory graph finds, in every encoding, reordered or not",
          arguments: VectorEncoding.allCases, [true, false])
    func recallMatchesMemory(encoding: VectorEncoding, reorder: Bool) throws {
        let index = try HNSWFixture.build(encoding: encoding)
        let flat = try HNSWFixture.oracle()
        let path = try Self.write(index, reorder: reorder)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let segment = try SegmentIndex(path: path)
        let memory = try HNSWFixture.recall(index, flat)
        let mapped = try Self.recall(segment, flat)
        #expect(mapped >= 0.95, "recall@10 \(mapped) from the segment")
        #expect(abs(mapped - memory) <= 0.02, "segment \(mapped) against memory \(memory)")
        // The same file answers the same way every time it is opened.
        let again = try SegmentIndex(path: path, verification: .structure)
        for q in 0..<10 {
            #expect(try again.search(HNSWFixture.data.query(q), k: 10) == (try segment.search(HNSWFixture.data.query(q), k: 10)))
        }
    }

    @Test("breadth-first rows make the level-0 graph smaller")
    func reorderingCompresses() throws {
        let index = try HNSWFixture.build()
        var sizes: [Bool: Int] = [:]
        for reorder in [false, true] {
            let path = try Self.write(index, reorder: reorder)
            defer { try? FileManager.default.removeItem(atPath: path) }
            sizes[reorder] = try SegmentReader(path: path).section(.graphLevel0).count
        }
        let raw = HNSWFixture.data.count * 4 * (1 + 2 * index.configuration.m)
        #expect(sizes[true]! < sizes[false]!, "\(sizes)")
        #expect(Double(raw) / Double(sizes[true]!) >= 1.5, "level 0: \(raw) bytes as lists, \(sizes[true]!) coded")
    }

    @Test("level 0 is decoded a block at a time as searches reach it")
    func lazyDecoding() throws {
        let index = try HNSWFixture.build()
        let path = try Self.write(index, blockRows: 64)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let segment = try SegmentIndex(path: path, verification: .structure)
        #expect(segment.decodedGraphBytes == 0)
        _ = try segment.search(HNSWFixture.data.query(0), k: 10)
        let blocks = (HNSWFixture.data.count + 63) / 64
        let full = blocks * 64 * 4 * (1 + 2 * index.configuration.m)
        #expect(segment.decodedGraphBytes > 0 && segment.decodedGraphBytes < full, "\(segment.decodedGraphBytes) of \(full)")
        try segment.decodeGraph()
        #expect(segment.decodedGraphBytes == full)
    }

    @Test("a damaged level-0 block is an error when it is decoded; full verification refuses the file")
    func damagedBlock() throws {
        let index = try HNSWFixture.build()
        let path = try Self.write(index)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let section = try #require(try SegmentReader(path: path).sections.first { $0.kind == .graphLevel0 })
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[section.offset + section.length / 2] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: SearchError.self) { _ = try SegmentIndex(path: path) }
        let segment = try SegmentIndex(path: path, verification: .structure)
        #expect(throws: SearchError.self) { try segment.decodeGraph() }
        // Every search either avoids the damaged block and answers, or reports it.
        for q in 0..<HNSWFixture.data.queryCount {
            let query = HNSWFixture.data.query(q)
            switch Result(catching: { () throws(SearchError) -> [SearchHit] in try segment.search(query, k: 10) }) {
            case .success(let hits): #expect(hits.count == 10)
            case .failure(let error): #expect(error.code == .corruptData)
            }
        }
    }

    @Test("every flipped byte of a small graph segment is refused or changes no answer")
    func everyByteFlip() throws {
        let data = ClusteredData(count: 120, queries: 5, dimension: 8, clusters: 4, seed: 9)
        let index = try HNSWFixture.build(data, encoding: .int8)
        let path = try Self.write(index, blockRows: 16)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let pristine = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let segment = try SegmentIndex(path: path)
        let expected = try (0..<data.queryCount).map { try segment.search(data.query($0), k: 5) }
        let url = URL(fileURLWithPath: path)
        var accepted = 0
        for position in 0..<pristine.count {
            var bytes = pristine
            bytes[position] ^= 0x04
            try Data(bytes).write(to: url)
            guard let damaged = try? SegmentIndex(path: path) else { continue }
            accepted += 1
            for q in 0..<data.queryCount {
                #expect(try damaged.search(data.query(q), k: 5) == expected[q], "byte \(position)")
            }
        }
        // Only padding between sections is outside every checksum.
        #expect(accepted < pristine.count / 4, "\(accepted) of \(pristine.count) flips accepted")
    }

    @Test("a truncated graph segment is refused")
    func truncations() throws {
        let data = ClusteredData(count: 60, queries: 1, dimension: 8, clusters: 3, seed: 10)
        let path = try Self.write(try HNSWFixture.build(data), blockRows: 16)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let pristine = try Data(contentsOf: URL(fileURLWithPath: path))
        for length in stride(from: 0, to: pristine.count, by: 7) {
            try pristine.prefix(length).write(to: URL(fileURLWithPath: path))
            #expect(throws: SearchError.self) { _ = try SegmentIndex(path: path, verification: .structure) }
        }
    }

    @Test("concurrent searches decoding the same blocks agree with one thread")
    func concurrentDecoding() async throws {
        let index = try HNSWFixture.build()
        let path = try Self.write(index, blockRows: 16)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let expected = try SegmentIndex(path: path)
        let queries = (0..<HNSWFixture.data.queryCount).map { HNSWFixture.data.query($0) }
        let answers = try queries.map { try expected.search($0, k: 10) }
        // A fresh segment: every block is decoded by whichever search reaches it first.
        let shared = try SegmentIndex(path: path, verification: .structure)
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    var same = true
                    for q in stride(from: worker, to: queries.count + worker, by: 1) {
                        let i = q % queries.count
                        let hits = try shared.search(queries[i], k: 10)
                        if hits != answers[i] { same = false }
                    }
                    return same
                }
            }
            for try await same in group { #expect(same) }
        }
    }
}
