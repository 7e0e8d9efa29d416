import Evaluation
import Foundation
import SearchCore
import Testing
import _TestSupport

@testable import ANNIndex

/// The int8-only mode (no float32 originals kept): candidates re-ranked from
/// the int8 codes with the query left in float32, in memory and from a
/// mapped segment; and what every encoding costs per vector.
@Suite("int8-only re-ranking and memory per vector")
struct Int8OnlyTests {
    static func int8Only(oversampling: Int = 4) throws -> HNSWIndex {
        var configuration = HNSWFixture.configuration(encoding: .int8)
        configuration.keepsFloat32ForRescoring = false
        configuration.rescoringOversampling = oversampling
        let data = HNSWFixture.data
        let index = try HNSWIndex(dimension: data.dimension, metric: .innerProduct, configuration: configuration)
        try index.add(data.vectors, ids: data.ids)
        return index
    }

    /// The bound on |q·x − q·x̂| when x̂ is x with every component rounded to
    /// one of 255 levels of max|x|/127: each component is off by at most half
    /// a level, so the dot is off by at most ‖q‖₁ · max|x| / 254 (plus float
    /// rounding). A distance computed from the quantised query as well is
    /// off by up to about twice that, so hits scored that way break it.
    static func bound(_ q: [Float], _ x: ArraySlice<Float>) -> Float {
        let peak = x.map(abs).max() ?? 0
        return q.map(abs).reduce(0, +) * peak / 254 + 1e-5
    }

    static func checkDistances(_ hits: [SearchHit], query q: [Float]) {
        let data = HNSWFixture.data
        for hit in hits {
            let row = Int(hit.id.rawValue)
            let x = data.vectors[(row * data.dimension)..<((row + 1) * data.dimension)]
            let exact = 1 - zip(q, x).map { $0 * $1 }.reduce(0, +)
            #expect(abs(hit.distance - exact) <= bound(q, x), "id \(row): \(hit.distance) against float32 \(exact)")
        }
    }

    @Test("hits are re-ranked from int8 with a float32 query: their distances stay within the one-sided error bound")
    func distancesFromFloatQuery() throws {
        let index = try Self.int8Only()
        #expect(index.memory.rescoring == 0)
        for q in 0..<HNSWFixture.data.queryCount {
            let query = HNSWFixture.data.query(q)
            Self.checkDistances(try index.search(query, k: 10, ef: 64), query: query)
        }
    }

    @Test("re-ranking an oversampled list from int8 recalls at least what the traversal's own top k does (measured: the same, 0.882)")
    func rerankRecall() throws {
        let flat = try HNSWFixture.oracle()
        let reranked = try HNSWFixture.recall(try Self.int8Only(oversampling: 4), flat)
        let traversal = try HNSWFixture.recall(try Self.int8Only(oversampling: 1), flat)
        #expect(reranked >= traversal, "re-ranked \(reranked), traversal's top 10 \(traversal)")
        #expect(reranked >= 0.85, "recall@10 \(reranked)")
    }

    @Test("a mapped int8-only segment re-ranks the same way", arguments: [true, false])
    func mapped(reorder: Bool) throws {
        let index = try Self.int8Only()
        let path = try SegmentGraphTests.write(index, reorder: reorder)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let segment = try SegmentIndex(path: path)
        let flat = try HNSWFixture.oracle()
        let memory = try HNSWFixture.recall(index, flat)
        let mapped = try SegmentGraphTests.recall(segment, flat)
        #expect(abs(mapped - memory) <= 0.02, "segment \(mapped) against memory \(memory)")
        for q in 0..<20 {
            let query = HNSWFixture.data.query(q)
            Self.checkDistances(try segment.search(query, k: 10), query: query)
        }
        // The exact-scan path (a very selective filter) scores the same way.
        let allowed = AllowList((0..<20).map { VectorID(UInt64($0 * 7)) })
        let query = HNSWFixture.data.query(0)
        let scanned = try segment.search(query, k: 10, filter: allowed)
        #expect(scanned.count == 10)
        Self.checkDistances(scanned, query: query)
        let inMemory = try index.search(query, k: 10, filter: allowed)
        #expect(inMemory.map(\.id) == scanned.map(\.id))
    }

    @Test("the estimated bytes per vector match the built index's, in every encoding, with and without originals",
          arguments: VectorEncoding.allCases, [true, false])
    func bytesPerVector(encoding: VectorEncoding, keepsFloats: Bool) throws {
        let data = HNSWFixture.data
        var configuration = HNSWFixture.configuration(encoding: encoding)
        configuration.keepsFloat32ForRescoring = keepsFloats
        let index = try HNSWIndex(dimension: data.dimension, metric: .innerProduct, configuration: configuration)
        try index.add(data.vectors, ids: data.ids)
        let built = index.memory
        #expect(built.slots >= data.count)
        #expect(built.bytesPerVector == Double(built.total) / Double(built.slots))
        let estimate = HNSWIndex.bytesPerVector(dimension: data.dimension, configuration: configuration)
        // Only the upper layers are drawn at random: the two differ by their share's deviation.
        #expect(abs(estimate - built.bytesPerVector) <= 0.03 * built.bytesPerVector,
                "estimated \(estimate) B, built \(built.bytesPerVector) B")
        let f32 = HNSWIndex.bytesPerVector(dimension: data.dimension, configuration: HNSWFixture.configuration())
        // Kept originals add 4 bytes a component to a smaller code; without them f16 and i8 take less than f32.
        if encoding == .float32 {
            #expect(estimate == f32)
        } else if !keepsFloats {
            #expect(estimate < f32)
        }
    }

    @Test("the README's memory-per-vector table (d = 512, M = 16) is what the code computes")
    func readmeTable() {
        func bytes(_ encoding: VectorEncoding, _ keepsFloats: Bool) -> Int {
            var configuration = HNSWIndex.Configuration()
            configuration.encoding = encoding
            configuration.keepsFloat32ForRescoring = keepsFloats
            return Int(HNSWIndex.bytesPerVector(dimension: 512, configuration: configuration).rounded())
        }
        #expect(bytes(.float32, true) == 2_272)
        #expect(bytes(.float16, true) == 3_296)
        #expect(bytes(.float16, false) == 1_248)
        #expect(bytes(.int8, true) == 2_784)
        #expect(bytes(.int8, false) == 736)
    }
}
