import Foundation
import SearchCore
import Testing
import _TestSupport

@testable import ANNIndex

@Suite("Persistent index")
struct PersistentIndexTests {
    static func directory() -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mms-persistent-\(UUID().uuidString)")
        return url.path
    }

    static func vectors(_ n: Int, _ d: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return rng.floats(n * d)
    }

    /// The oracle: the same vectors in an exact in-memory index.
    static func oracle(_ vectors: [Float], ids: [VectorID], d: Int, metric: Metric) throws -> FlatIndex {
        let flat = FlatIndex(dimension: d, metric: metric)
        try flat.add(vectors, ids: ids)
        return flat
    }

    func expectSameResults(_ index: PersistentIndex, _ oracle: FlatIndex, queries: [Float], d: Int, k: Int) throws {
        for q in 0..<(queries.count / d) {
            let query = Array(queries[(q * d)..<((q + 1) * d)])
            let ours = try index.search(query, k: k).map(\.id)
            let truth = try oracle.search(query, k: k).map(\.id)
            #expect(ours == truth, "query \(q)")
        }
    }

    @Test("search over head and segments equals exact search, and reopening gives the same answers", arguments: [Metric.cosine, .squaredL2])
    func exactAndDurable(metric: Metric) throws {
        let d = 16, n = 600
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = Self.vectors(n, d, seed: 1)
        let ids = (0..<n).map { VectorID(UInt64($0 * 3)) }
        let queries = Self.vectors(20, d, seed: 2)
        do {
            let index = try PersistentIndex(directory: dir, dimension: d, metric: metric, flushThreshold: 250)
            for start in stride(from: 0, to: n, by: 50) {
                try index.add(Array(data[(start * d)..<((start + 50) * d)]), ids: Array(ids[start..<(start + 50)]))
            }
            #expect(index.segmentCount == 2)  // 250 and 500 triggered flushes; 100 remain in the head
            #expect(index.count == n)
            try expectSameResults(index, try Self.oracle(data, ids: ids, d: d, metric: metric), queries: queries, d: d, k: 10)
        }
        let reopened = try PersistentIndex(directory: dir, dimension: d, metric: metric, flushThreshold: 250)
        #expect(reopened.count == n)
        try expectSameResults(reopened, try Self.oracle(data, ids: ids, d: d, metric: metric), queries: queries, d: d, k: 10)
    }

    @Test("deletes and replacements reach into segments and survive reopening; compaction gives disk back")
    func deletesReplaceCompact() throws {
        let d = 8, n = 400
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var data = Self.vectors(n, d, seed: 3)
        let ids = (0..<n).map { VectorID(UInt64($0)) }
        let index = try PersistentIndex(directory: dir, dimension: d, metric: .squaredL2, flushThreshold: 10_000)
        try index.add(data, ids: ids)
        try index.flush()
        let removed = (0..<n).filter { $0 % 2 == 0 }.map { VectorID(UInt64($0)) }
        #expect(try index.remove(removed) == removed.count)
        #expect(try index.remove([VectorID(99_999)]) == 0)
        // Replace id 1 with a new vector: the head's copy wins over the segment's.
        let replacement = [Float](repeating: 9, count: d)
        try index.add(replacement, id: 1)
        data.replaceSubrange(d..<(2 * d), with: replacement)
        #expect(index.count == n / 2)
        let before = index.diskBytes
        let liveIDs = ids.filter { $0.rawValue % 2 == 1 }
        let liveData = liveIDs.flatMap { Array(data[(Int($0.rawValue) * d)..<((Int($0.rawValue) + 1) * d)]) }
        let queries = Self.vectors(10, d, seed: 4) + replacement
        let reopened = try PersistentIndex(directory: dir, dimension: d, metric: .squaredL2, flushThreshold: 10_000)
        try expectSameResults(reopened, try Self.oracle(liveData, ids: liveIDs, d: d, metric: .squaredL2), queries: queries, d: d, k: 5)
        #expect(try reopened.search(replacement, k: 1).first?.id == 1)
        try reopened.compact()
        #expect(reopened.segmentCount == 1)
        #expect(reopened.diskBytes < before, "compaction: \(before) → \(reopened.diskBytes) bytes")
        try expectSameResults(reopened, try Self.oracle(liveData, ids: liveIDs, d: d, metric: .squaredL2), queries: queries, d: d, k: 5)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(names.filter { $0.hasPrefix("seg-") }.count == 1)
        #expect(names.filter { $0.hasPrefix("wal-") }.count == 1)
    }

    @Test("filters return exactly min(k, allowed live vectors) across head and segments")
    func filters() throws {
        let d = 8, n = 300
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let index = try PersistentIndex(directory: dir, dimension: d, metric: .innerProduct, flushThreshold: 100)
        try index.add(Self.vectors(n, d, seed: 5), ids: (0..<n).map { VectorID(UInt64($0)) })
        try index.remove([VectorID(7), VectorID(250)])
        let allowed = AllowList([3, 7, 150, 250, 299].map { VectorID(UInt64($0)) })
        let hits = try index.search(Self.vectors(1, d, seed: 6), k: 10, filter: allowed)
        #expect(Set(hits.map(\.id)) == Set([3, 150, 299].map { VectorID(UInt64($0)) }))
        #expect(try index.search(Self.vectors(1, d, seed: 6), k: 2, filter: allowed).count == 2)
    }

    @Test("bad input is refused and changes nothing")
    func badInput() throws {
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let index = try PersistentIndex(directory: dir, dimension: 4, metric: .cosine)
        #expect(throws: SearchError.self) { try index.add([1, 2, 3], ids: [1]) }
        #expect(throws: SearchError.self) { try index.add([1, .nan, 3, 4], ids: [1]) }
        #expect(throws: SearchError.self) { try index.add([0, 0, 0, 0], ids: [1]) }
        #expect(throws: SearchError.self) { try index.add([1, 2, 3, 4, 1, 2, 3, 4], ids: [1, 1]) }
        #expect(throws: SearchError.self) { _ = try index.search([1, 2, 3, 4], k: 0) }
        #expect(index.count == 0)
        #expect(try index.search([1, 2, 3, 4], k: 3).isEmpty)
        #expect(throws: SearchError.self) { _ = try PersistentIndex(directory: dir, dimension: 4, metric: .cosine, flushThreshold: 0) }
    }

    @Test("a torn log tail is dropped; damage in a segment, the manifest or the middle of the log is a typed error")
    func recoveryAndDamage() throws {
        let d = 4
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let index = try PersistentIndex(directory: dir, dimension: d, metric: .squaredL2)
            try index.add([1, 0, 0, 0], id: 1)
            try index.flush()
            try index.add([0, 1, 0, 0], id: 2)
            try index.add([0, 0, 1, 0], id: 3)
        }
        let log = try FileManager.default.contentsOfDirectory(atPath: dir).first { $0.hasPrefix("wal-") }!
        let logURL = URL(fileURLWithPath: dir + "/" + log)
        let full = try Data(contentsOf: logURL)
        // Tear the last record: id 3's commit never returned.
        try full.prefix(full.count - 3).write(to: logURL)
        do {
            let index = try PersistentIndex(directory: dir, dimension: d, metric: .squaredL2)
            #expect(index.count == 2)
            #expect(try index.search([0, 0, 1, 0], k: 3).map(\.id).contains(2))
        }
        // Damage in the first log record, before a valid one.
        try addAgain(dir, d)
        var damaged = [UInt8](try Data(contentsOf: logURL))
        damaged[20] ^= 0xFF
        try Data(damaged).write(to: logURL)
        #expect(throws: SearchError.self) { _ = try PersistentIndex(directory: dir, dimension: d, metric: .squaredL2) }
        try full.write(to: logURL)
        // A flipped byte in a segment's vectors.
        let segment = try FileManager.default.contentsOfDirectory(atPath: dir).first { $0.hasPrefix("seg-") }!
        let segmentURL = URL(fileURLWithPath: dir + "/" + segment)
        var segmentBytes = [UInt8](try Data(contentsOf: segmentURL))
        segmentBytes[70] ^= 1
        try Data(segmentBytes).write(to: segmentURL)
        #expect(throws: SearchError.self) { _ = try PersistentIndex(directory: dir, dimension: d, metric: .squaredL2) }
        segmentBytes[70] ^= 1
        try Data(segmentBytes).write(to: segmentURL)
        // A flipped byte in the manifest.
        let manifestURL = URL(fileURLWithPath: dir + "/MANIFEST")
        var manifest = [UInt8](try Data(contentsOf: manifestURL))
        manifest[13] ^= 1
        try Data(manifest).write(to: manifestURL)
        #expect(throws: SearchError.self) { _ = try PersistentIndex(directory: dir, dimension: d, metric: .squaredL2) }
        manifest[13] ^= 1
        try Data(manifest).write(to: manifestURL)
        #expect(try PersistentIndex(directory: dir, dimension: d, metric: .squaredL2).count == 3)
        #expect(throws: SearchError.self) { _ = try PersistentIndex(directory: dir, dimension: 5, metric: .squaredL2) }
    }

    /// Reopens (recovering the torn tail) and commits id 3 again.
    func addAgain(_ dir: String, _ d: Int) throws {
        let index = try PersistentIndex(directory: dir, dimension: d, metric: .squaredL2)
        try index.add([0, 0, 1, 0], id: 3)
    }

    @Test("deleting half and compacting gives back disk, mapped and decoded-graph memory")
    func compactionGivesMemoryBack() throws {
        let d = 16, n = 2_000
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var configuration = HNSWIndex.Configuration()
        configuration.encoding = .int8
        configuration.efConstruction = 64
        let index = try PersistentIndex(directory: dir, dimension: d, metric: .cosine, configuration: configuration)
        try index.add(Self.vectors(n, d, seed: 11), ids: (0..<n).map { VectorID(UInt64($0)) })
        try index.flush()
        try index.decodeGraphs()
        let (diskBefore, memoryBefore) = (index.diskBytes, index.memory)
        #expect(memoryBefore.head < 4096 && memoryBefore.decodedGraph > 0 && memoryBefore.mapped > 0)
        try index.remove((0..<n).filter { $0 % 2 == 0 }.map { VectorID(UInt64($0)) })
        try index.compact()
        try index.decodeGraphs()
        let (diskAfter, memoryAfter) = (index.diskBytes, index.memory)
        #expect(Double(diskAfter) < 0.6 * Double(diskBefore), "disk \(diskBefore) → \(diskAfter)")
        #expect(Double(memoryAfter.mapped) < 0.6 * Double(memoryBefore.mapped), "mapped \(memoryBefore.mapped) → \(memoryAfter.mapped)")
        #expect(
            Double(memoryAfter.decodedGraph) < 0.6 * Double(memoryBefore.decodedGraph),
            "decoded graph \(memoryBefore.decodedGraph) → \(memoryAfter.decodedGraph)")
        #expect(index.count == n / 2)
        #expect(try index.search(Self.vectors(1, d, seed: 12), k: 10).allSatisfy { $0.id.rawValue % 2 == 1 })
    }

    @Test("a segment build is reproducible: the same input gives byte-identical files")
    func reproducible() throws {
        var files: [Data] = []
        for _ in 0..<2 {
            let dir = Self.directory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let index = try PersistentIndex(directory: dir, dimension: 8, metric: .cosine)
            try index.add(Self.vectors(50, 8, seed: 7), ids: (0..<50).map { VectorID(UInt64($0)) })
            try index.flush()
            let segment = try FileManager.default.contentsOfDirectory(atPath: dir).first { $0.hasPrefix("seg-") }!
            files.append(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + segment)))
        }
        #expect(files[0] == files[1])
    }
}

@Suite("Persistent index merge policy")
struct PersistentIndexMergeTests {
    @Test("flushes past the segment limit merge the segments into one")
    func mergePolicy() throws {
        let dir = PersistentIndexTests.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let index = try PersistentIndex(directory: dir, dimension: 4, metric: .squaredL2, flushThreshold: 5, maximumSegments: 3)
        var counts: [Int] = []
        for batch in 0..<8 {
            try index.add(PersistentIndexTests.vectors(5, 4, seed: UInt64(batch)), ids: (0..<5).map { VectorID(UInt64(batch * 5 + $0)) })
            counts.append(index.segmentCount)
        }
        #expect(counts == [1, 2, 3, 1, 2, 3, 1, 2])
        #expect(index.count == 40)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(names.filter { $0.hasPrefix("seg-") }.count == 2)
    }
}
