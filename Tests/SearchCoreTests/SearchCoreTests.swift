import Synchronization
import Testing

@testable import SearchCore

@Suite("SearchCore vocabulary")
struct VocabularyTests {
    @Test("metric raw values are the on-disk ones and never change")
    func metricRawValues() {
        #expect(Metric.squaredL2.rawValue == 1)
        #expect(Metric.innerProduct.rawValue == 2)
        #expect(Metric.cosine.rawValue == 3)
        #expect(Metric(rawValue: 0) == nil)
        #expect(Metric(rawValue: 4) == nil)
    }

    @Test("score and distance are inverse for every metric", arguments: Metric.allCases)
    func scoreDistance(metric: Metric) {
        for d: Float in [-1, 0, 0.25, 2] {
            #expect(metric.distance(fromScore: metric.score(fromDistance: d)) == d)
        }
        // Closer means a higher score.
        #expect(metric.score(fromDistance: 0.1) > metric.score(fromDistance: 0.2))
    }

    @Test("metric names parse both spellings")
    func metricNames() {
        for metric in Metric.allCases { #expect(Metric(name: metric.description) == metric) }
        #expect(Metric(name: "Dot") == .innerProduct)
        #expect(Metric(name: "manhattan") == nil)
    }

    @Test("hits order closest first with ties by id")
    func hitOrder() {
        let hits = [SearchHit(id: 5, distance: 0.3), SearchHit(id: 2, distance: 0.1), SearchHit(id: 1, distance: 0.3)]
        #expect(hits.sorted(by: SearchHit.closerFirst).map(\.id) == [2, 1, 5])
    }

    @Test("an embedding normalises to unit length and a zero one stays zero")
    func embedding() {
        let e = Embedding([3, 4]).normalized()
        #expect(e.values == [0.6, 0.8])
        #expect(Embedding([0, 0]).normalized().values == [0, 0])
        #expect(!Embedding([1, .nan]).isFinite)
    }

    @Test("an RGB image with the wrong byte count is rejected with the sizes in the message")
    func rgbImage() throws {
        #expect(throws: SearchError.self) { try RGBImage(width: 2, height: 2, pixels: [UInt8](repeating: 0, count: 11)) }
        let image = try RGBImage(width: 2, height: 2, pixels: [UInt8](repeating: 0, count: 12))
        #expect(image.width == 2)
        do {
            _ = try RGBImage(width: 0, height: 5, pixels: [])
            Issue.record("a zero-width image was accepted")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("0×5"))
        }
    }

    @Test("errors describe their code, message and cause")
    func errorDescription() {
        struct Cause: Error, Sendable {}
        let e = SearchError(.corruptData, "checksum mismatch in seg-1 at offset 64", underlying: Cause())
        #expect(e.code == .corruptData)
        #expect(e.code != .io)
        #expect("\(e)".hasPrefix("corrupt data: checksum mismatch in seg-1 at offset 64"))
        #expect(throws: SearchError.self) { try SearchError.checkDimension(3, expected: 4) }
    }

    @Test("filters allow what they say")
    func filters() {
        #expect(NoFilter().allows(9))
        #expect(AllowList([1, 2]).allows(2) && !AllowList([1, 2]).allows(3))
        #expect(!DenyList([1]).allows(1) && DenyList([1]).allows(2))
        #expect(PredicateFilter { $0.rawValue > 5 }.allows(6))
    }
}

/// The smallest honest `VectorIndex`: a brute-force list, to test the
/// protocol's default batch search.
private final class ListIndex: VectorIndex {
    let dimension = 2
    let metric = Metric.squaredL2
    private let rows = Mutex<[(VectorID, [Float])]>([])

    var count: Int { rows.withLock { $0.count } }

    func add(_ vectors: UnsafeBufferPointer<Float>, ids: [VectorID]) throws(SearchError) {
        try SearchError.checkDimension(vectors.count, expected: ids.count * dimension, "the batch")
        rows.withLock { rows in
            for (i, id) in ids.enumerated() { rows.append((id, Array(vectors[(i * 2)..<(i * 2 + 2)]))) }
        }
    }

    func remove(_ ids: [VectorID]) throws(SearchError) -> Int { 0 }

    func search<Filter: SearchFilter>(_ query: UnsafeBufferPointer<Float>, k: Int, filter: Filter) throws(SearchError) -> [SearchHit] {
        rows.withLock { rows in
            rows.filter { filter.allows($0.0) }
                .map { SearchHit(id: $0.0, distance: zip($0.1, query).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)) }
                .sorted(by: SearchHit.closerFirst).prefix(k).map { $0 }
        }
    }
}

@Suite("VectorIndex defaults")
struct VectorIndexDefaultsTests {
    @Test("batch search writes each query's hits and counts into the caller's buffers")
    func batch() throws {
        let index = ListIndex()
        try index.add([0, 0, 1, 0, 5, 5], ids: [10, 11, 12])
        let queries: [Float] = [0.9, 0, 5, 4]
        var hits = [SearchHit](repeating: SearchHit(id: 0, distance: .nan), count: 4)
        var counts = [Int](repeating: -1, count: 2)
        try queries.withUnsafeBufferPointer { q in
            try hits.withUnsafeMutableBufferPointer { h in
                try counts.withUnsafeMutableBufferPointer { c in
                    try index.search(batch: q, k: 2, filter: DenyList([10]), into: h, counts: c)
                }
            }
        }
        #expect(counts == [2, 2])
        #expect(hits.map(\.id) == [11, 12, 12, 11])
        var tooSmall = [Int](repeating: 0, count: 1)
        #expect(throws: SearchError.self) {
            try queries.withUnsafeBufferPointer { q in
                try hits.withUnsafeMutableBufferPointer { h in
                    try tooSmall.withUnsafeMutableBufferPointer { c in
                        try index.search(batch: q, k: 2, filter: NoFilter(), into: h, counts: c)
                    }
                }
            }
        }
        #expect(throws: SearchError.self) { try index.add([1, 2, 3], ids: [1]) }
    }
}
