import Foundation
import SearchCore
import Testing
import _TestSupport

@testable import ANNIndex

/// A segment served through the ``VectorIndex`` seam, and the typed errors of
/// every index in this module.
@Suite("Segment index as a VectorIndex")
struct SegmentIndexTests {
    @Test("a segment answers through `any VectorIndex`, like the graph it was written from, and refuses writes with a typed error")
    func readOnlyVectorIndex() throws {
        let memory = try HNSWFixture.build(encoding: .float32)
        let path = try SegmentGraphTests.write(memory)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let segment = try SegmentIndex(path: path)
        let index: any VectorIndex = segment
        #expect(index.dimension == memory.dimension)
        #expect(index.metric == memory.metric)
        #expect(index.count == memory.count)
        let query = HNSWFixture.data.query(0)
        #expect(try index.search(query, k: 10) == (try segment.search(query, k: 10, ef: SegmentIndex.defaultEF)))
        #expect(SegmentIndex.defaultEF == HNSWIndex.Configuration().efSearch)
        let filtered = try index.search(query, k: 5, filter: AllowList([segment.id(ofRow: 0), segment.id(ofRow: 1)]))
        #expect(Set(filtered.map(\.id)) == [segment.id(ofRow: 0), segment.id(ofRow: 1)])
        // A wider candidate list is accepted; a bad one is a typed error.
        #expect(try segment.search(query, k: 10, ef: 200).count == 10)
        #expect(throws: SearchError.self) { _ = try segment.search(query, k: 10, ef: 0) }

        for write in [{ try index.add(query, id: 1) }, { _ = try index.remove([segment.id(ofRow: 0)]) }] {
            do {
                try write()
                Issue.record("a write to a segment succeeded")
            } catch let error as SearchError {
                #expect(error.code == .invalidArgument)
                #expect(error.message.contains("read-only"))
            }
        }
        #expect(segment.count == memory.count)
    }

    @Test("add, remove and search of every index in the module throw SearchError, typed")
    func typedThrows() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mms-typed-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let storage = UnsafeMutableBufferPointer<Float>.allocate(capacity: 3)  // one component short
        defer { storage.deallocate() }
        _ = storage.initialize(from: [1, 2, 3])
        let bad = UnsafeBufferPointer(storage)
        let flat = FlatIndex(dimension: 4, metric: .squaredL2)
        let hnsw = try HNSWIndex(dimension: 4, metric: .squaredL2)
        let persistent = try PersistentIndex(directory: dir, dimension: 4, metric: .squaredL2)
        // Each closure compiles only because the call throws `SearchError`, not `any Error`.
        #expect(Self.failure { () throws(SearchError) in try flat.add(bad, ids: [1]) } == .dimensionMismatch)
        #expect(Self.failure { () throws(SearchError) in _ = try flat.search(bad, k: 1, filter: NoFilter()) } == .dimensionMismatch)
        #expect(Self.failure { () throws(SearchError) in try hnsw.add(bad, ids: [1]) } == .dimensionMismatch)
        #expect(Self.failure { () throws(SearchError) in _ = try hnsw.search(bad, k: 1, filter: NoFilter()) } == .dimensionMismatch)
        #expect(Self.failure { () throws(SearchError) in try persistent.add(bad, ids: [1]) } == .dimensionMismatch)
        #expect(Self.failure { () throws(SearchError) in _ = try persistent.search(bad, k: 1, filter: NoFilter()) } == .dimensionMismatch)
        #expect(Self.failure { () throws(SearchError) in _ = try flat.remove([1]) } == nil)
        #expect(Self.failure { () throws(SearchError) in _ = try hnsw.remove([1]) } == nil)
        #expect(Self.failure { () throws(SearchError) in _ = try persistent.remove([1]) } == nil)
    }

    /// The code of the typed error `body` throws, or nil when it returns.
    static func failure(_ body: () throws(SearchError) -> Void) -> SearchError.Code? {
        do {
            try body()
            return nil
        } catch {
            return error.code
        }
    }
}
