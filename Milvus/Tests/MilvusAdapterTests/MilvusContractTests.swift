import Foundation
import MilvusAdapter
import SearchCore
import Testing

/// The ``VectorIndex`` contract against a real Milvus server (milvus-lite on
/// 127.0.0.1 unless `MILVUS_URI` names another).
@Suite("MilvusIndex contract")
struct MilvusContractTests {
    let dimension = 8

    func open(_ stem: String, metric: Metric = .squaredL2, index: MilvusIndexKind = .hnsw(), fields: [MilvusField] = [])
        async throws -> MilvusIndex
    {
        let configuration = try TestServer.configuration()
        return try await MilvusIndex.open(
            MilvusCollection(
                name: TestServer.uniqueName(stem), dimension: dimension, metric: metric, index: index, fields: fields),
            configuration: configuration)
    }

    func dropping(_ index: MilvusIndex) async {
        _ = try? await MilvusIndex.drop(index.collection.name, configuration: index.configuration)
        index.close()
    }

    @Test("added vectors are found, ids keep all 64 bits, distances are squared L2")
    func addAndSearch() async throws {
        let index = try await open("add")
        var generator = Vectors(seed: 1)
        let vectors = generator.make(50, dimension: dimension)
        let ids = (0..<50).map { VectorID(UInt64.max - UInt64($0) * 977) }
        try await index.add(vectors, ids: ids)
        #expect(try await index.exactCount() == 50)
        for row in [0, 17, 49] {
            let hits = try await index.search(Array(vectors.row(row, dimension)), k: 5)
            let expected = bruteForce(vectors.row(row, dimension), vectors: vectors, ids: ids, dimension: dimension, metric: .squaredL2, k: 5)
            #expect(hits.first?.id == ids[row])
            #expect(hits.map(\.id) == expected.map(\.0))
            for (hit, truth) in zip(hits, expected) {
                // float32 sums of 8 squares against a double reference.
                #expect(abs(Double(hit.distance) - truth.1) <= 1e-4 * max(1, truth.1))
            }
        }
        await dropping(index)
    }

    @Test("cosine and inner product come back as 1 − score", arguments: [Metric.cosine, .innerProduct])
    func similarityMetrics(metric: Metric) async throws {
        let index = try await open("metric", metric: metric)
        var generator = Vectors(seed: 2)
        let vectors = generator.make(40, dimension: dimension)
        let ids = (0..<40).map { VectorID(UInt64($0)) }
        try await index.add(vectors, ids: ids)
        let query = generator.make(1, dimension: dimension)
        let hits = try await index.search(query, k: 10)
        let expected = bruteForce(query[...], vectors: vectors, ids: ids, dimension: dimension, metric: metric, k: 10)
        #expect(hits.map(\.id) == expected.map(\.0))
        for (hit, truth) in zip(hits, expected) {
            #expect(abs(Double(hit.distance) - truth.1) <= 1e-4 * max(1, abs(truth.1)))
        }
        await dropping(index)
    }

    @Test("re-adding an id replaces its vector; a batch naming an id twice keeps the last row")
    func upsertReplaces() async throws {
        let index = try await open("upsert")
        var generator = Vectors(seed: 3)
        let vectors = generator.make(20, dimension: dimension)
        try await index.add(vectors, ids: (0..<20).map { VectorID(UInt64($0)) })
        let moved = [Float](repeating: 9, count: dimension)
        try await index.add(moved, ids: [7])
        #expect(try await index.exactCount() == 20)
        let hits = try await index.search(moved, k: 1)
        #expect(hits.first?.id == 7)
        #expect(hits.first.map { $0.distance < 1e-3 } == true)
        // The old vector of 7 is gone: searching it does not find 7 first.
        let old = try await index.search(Array(vectors.row(7, dimension)), k: 1)
        #expect(old.first?.id != 7)

        let first = [Float](repeating: -5, count: dimension)
        let second = [Float](repeating: 5, count: dimension)
        try await index.add(first + second, ids: [100, 100])
        #expect(try await index.exactCount() == 21)
        #expect(try await index.search(second, k: 1).first?.id == 100)
        #expect(try await index.search(first, k: 1).first?.id != 100)
        await dropping(index)
    }

    @Test("remove counts only ids present, and a removed vector is never returned")
    func removes() async throws {
        let index = try await open("remove")
        var generator = Vectors(seed: 4)
        let vectors = generator.make(30, dimension: dimension)
        let ids = (0..<30).map { VectorID(UInt64($0)) }
        try await index.add(vectors, ids: ids)
        #expect(try await index.remove([3, 4, 5, 1000, 3]) == 3)
        #expect(try await index.remove([3]) == 0)
        #expect(try await index.exactCount() == 27)
        for row in [3, 4, 5] {
            let hits = try await index.search(Array(vectors.row(row, dimension)), k: 30)
            #expect(!hits.contains { [3, 4, 5].contains($0.id) })
            #expect(hits.count == 27)
        }
        await dropping(index)
    }

    @Test("allow-lists, deny-lists and other filters give the exact filtered neighbours")
    func filters() async throws {
        let index = try await open("filter", index: .flat)
        var generator = Vectors(seed: 5)
        let vectors = generator.make(200, dimension: dimension)
        let ids = (0..<200).map { VectorID(UInt64($0) * 3) }
        try await index.add(vectors, ids: ids)
        let query = generator.make(1, dimension: dimension)
        let allowed = Set(ids.filter { $0.rawValue % 7 == 0 })
        func expected(_ allows: (VectorID) -> Bool) -> [VectorID] {
            bruteForce(query[...], vectors: vectors, ids: ids, dimension: dimension, metric: .squaredL2, k: 10, allows: allows).map(\.0)
        }
        #expect(try await index.search(query, k: 10, filter: AllowList(allowed)).map(\.id) == expected { allowed.contains($0) })
        #expect(try await index.search(query, k: 10, filter: DenyList(allowed)).map(\.id) == expected { !allowed.contains($0) })
        #expect(try await index.search(query, k: 10, filter: AllowList([])).isEmpty)
        // Not expressible on the server: applied to its hits, fetching more until k pass.
        let rare = PredicateFilter { $0.rawValue % 41 == 0 }
        let rareHits = try await index.search(query, k: 3, filter: rare)
        #expect(rareHits.map(\.id) == Array(expected { $0.rawValue % 41 == 0 }.prefix(3)))
        // The blocking requirement takes the same path.
        let blocking = try query.withUnsafeBufferPointer { q in try index.search(q, k: 10, filter: AllowList(allowed)) }
        #expect(blocking.map(\.id) == expected { allowed.contains($0) })
        await dropping(index)
    }

    @Test("field equality and prefixes are pushed down as expressions")
    func fieldPredicates() async throws {
        let fields = [MilvusField("sku", .string(maxLength: 32)), MilvusField("year", .int64), MilvusField("sale", .bool)]
        let index = try await open("fields", index: .flat, fields: fields)
        var generator = Vectors(seed: 6)
        let vectors = generator.make(60, dimension: dimension)
        let ids = (0..<60).map { VectorID(UInt64($0)) }
        let skus: [MilvusValue?] = ids.map { id in
            id.rawValue % 10 == 9 ? nil : .string((id.rawValue % 2 == 0 ? "SH_" : "SHX") + String(id.rawValue))
        }
        let years: [MilvusValue?] = ids.map { .int64(2020 + Int64($0.rawValue % 3)) }
        let sales: [MilvusValue?] = ids.map { .bool($0.rawValue % 4 == 0) }
        try await index.upsert(vectors, ids: ids, fields: ["sku": skus, "year": years, "sale": sales])
        let query = generator.make(1, dimension: dimension)
        func expected(_ allows: (UInt64) -> Bool) -> [VectorID] {
            bruteForce(query[...], vectors: vectors, ids: ids, dimension: dimension, metric: .squaredL2, k: 60, allows: { allows($0.rawValue) }).map(\.0)
        }
        // '_' is a wildcard of `like`; the prefix must match it literally.
        let prefix = try await index.search(query, k: 60, where: .hasPrefix("sku", "SH_"))
        #expect(prefix.map(\.id) == expected { $0 % 2 == 0 && $0 % 10 != 9 })
        let year = try await index.search(query, k: 60, where: .equals("year", .int64(2021)))
        #expect(year.map(\.id) == expected { $0 % 3 == 1 })
        let both = try await index.search(query, k: 60, where: .equals("sale", .bool(true)) && !.ids([0, 4]))
        #expect(both.map(\.id) == expected { $0 % 4 == 0 && $0 != 0 && $0 != 4 })
        let quote = try await index.search(query, k: 5, where: .equals("sku", .string("a\"b\\c")))
        #expect(quote.isEmpty)
        await #expect(throws: SearchError.self) { try await index.search(query, k: 5, where: .equals("colour", .string("red"))) }
        await #expect(throws: SearchError.self) { try await index.search(query, k: 5, where: .hasPrefix("year", "20")) }
        await #expect(throws: SearchError.self) { try await index.search(query, k: 5, where: .equals("year", .string("x"))) }
        // A plain add clears the fields of the rows it replaces.
        try await index.add(Array(vectors.row(2, dimension)), ids: [2])
        let cleared = try await index.search(query, k: 60, where: .hasPrefix("sku", "SH_"))
        #expect(!cleared.contains { $0.id == 2 })
        await dropping(index)
    }

    @Test("batch search equals one search per query, through the blocking requirement too")
    func batchSearch() async throws {
        let index = try await open("batch")
        var generator = Vectors(seed: 7)
        let vectors = generator.make(100, dimension: dimension)
        try await index.add(vectors, ids: (0..<100).map { VectorID(UInt64($0)) })
        let queries = generator.make(5, dimension: dimension)
        let batch = try await index.search(batch: queries, k: 4, filter: NoFilter())
        #expect(batch.count == 5)
        for q in 0..<5 {
            #expect(batch[q] == (try await index.search(Array(queries.row(q, dimension)), k: 4)))
        }
        var hits = [SearchHit](repeating: SearchHit(id: 0, distance: 0), count: 20)
        var counts = [Int](repeating: 0, count: 5)
        try queries.withUnsafeBufferPointer { q in
            try hits.withUnsafeMutableBufferPointer { h in
                try counts.withUnsafeMutableBufferPointer { c in
                    try index.search(batch: q, k: 4, filter: NoFilter(), into: h, counts: c)
                }
            }
        }
        #expect(counts == [4, 4, 4, 4, 4])
        for q in 0..<5 { #expect(Array(hits[(q * 4)..<(q * 4 + 4)]) == batch[q]) }
        await dropping(index)
    }

    @Test("bad input is a typed error and writes nothing")
    func badInput() async throws {
        let index = try await open("bad", metric: .cosine, fields: [MilvusField("tag", .string(maxLength: 4))])
        func code(_ body: () async throws -> Void) async -> SearchError.Code? {
            do { try await body() } catch let error as SearchError { return error.code } catch { return nil }
            return nil
        }
        var vector = [Float](repeating: 1, count: dimension)
        #expect(await code { try await index.add([1, 2, 3], ids: [1]) } == .dimensionMismatch)
        vector[3] = .nan
        #expect(await code { try await index.add(vector + vector, ids: [1, 2]) } == .invalidVector)
        #expect(await code { try await index.add([Float](repeating: 0, count: dimension), ids: [1]) } == .invalidVector)
        let good = [Float](repeating: 1, count: dimension)
        #expect(await code { _ = try await index.search(good, k: 0) } == .invalidArgument)
        #expect(await code { _ = try await index.search(good, k: MilvusIndex.maxK + 1) } == .invalidArgument)
        #expect(await code { _ = try await index.search([1, 2], k: 1) } == .dimensionMismatch)
        #expect(await code { try await index.upsert(good, ids: [1], fields: ["tag": [.string("toolong")]]) } == .invalidArgument)
        #expect(await code { try await index.upsert(good, ids: [1], fields: ["nope": [.string("a")]]) } == .invalidArgument)
        #expect(try await index.exactCount() == 0)
        // The same name with another layout is refused, not silently reused.
        let other = MilvusCollection(name: index.collection.name, dimension: dimension * 2, metric: .cosine)
        #expect(await code { _ = try await MilvusIndex.open(other, configuration: index.configuration) } == .unsupportedFormat)
        let otherMetric = MilvusCollection(name: index.collection.name, dimension: dimension, metric: .squaredL2)
        #expect(await code { _ = try await MilvusIndex.open(otherMetric, configuration: index.configuration) } == .unsupportedFormat)
        #expect(await code { _ = try await MilvusIndex.open(MilvusCollection(name: "9bad name", dimension: 4, metric: .cosine), configuration: index.configuration) } == .invalidArgument)
        await dropping(index)
    }

    @Test("two connections to one collection see each other's writes at once (Strong consistency)")
    func twoClients() async throws {
        let first = try await open("shared")
        let second = try await MilvusIndex.open(first.collection, configuration: first.configuration)
        var generator = Vectors(seed: 8)
        let vectors = generator.make(10, dimension: dimension)
        try await first.add(vectors, ids: (0..<10).map { VectorID(UInt64($0)) })
        #expect(try await second.exactCount() == 10)
        #expect(try await second.search(Array(vectors.row(4, dimension)), k: 1).first?.id == 4)
        #expect(try await second.remove([4]) == 1)
        #expect(try await first.search(Array(vectors.row(4, dimension)), k: 1).first?.id != 4)
        second.close()
        await dropping(first)
    }

    @Test("the blocking requirements work from a plain thread")
    func blockingFromThread() async throws {
        let index = try await open("blocking")
        let dimension = self.dimension
        let outcome: Result<(Int, [SearchHit]), SearchError> = await withCheckedContinuation { continuation in
            let thread = Thread {
                do throws(SearchError) {
                    let vectors: [Float] = (0..<(3 * dimension)).map { Float($0 % 5) - Float($0 / dimension) }
                    try index.add(vectors, ids: [10, 11, 12])
                    let hits = try index.search(Array(vectors.row(1, dimension)), k: 2)
                    continuation.resume(returning: .success((index.count, hits)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            thread.start()
        }
        let (count, hits) = try outcome.get()
        #expect(count == 3)
        #expect(hits.first?.id == 11)
        await dropping(index)
    }
}

@Suite("Milvus configuration and expressions (no server)")
struct MilvusOfflineTests {
    @Test("URIs parse as pymilvus reads them")
    func uris() throws {
        let a = try MilvusConfiguration(uri: "http://127.0.0.1:19531")
        #expect(a.host == "127.0.0.1" && a.port == 19531 && a.database == nil)
        let b = try MilvusConfiguration(uri: "milvus.internal")
        #expect(b.host == "milvus.internal" && b.port == 19530)
        let c = try MilvusConfiguration(uri: "tcp://[::1]:19532/catalog")
        #expect(c.host == "::1" && c.port == 19532 && c.database == "catalog")
        #expect(c.uri == "http://[::1]:19532/catalog")
        #expect(throws: SearchError.self) { try MilvusConfiguration(uri: "https://db.example:443") }
        #expect(throws: SearchError.self) { try MilvusConfiguration(uri: "http://:19530") }
        #expect(throws: SearchError.self) { try MilvusConfiguration(uri: "http://host:99999") }
    }
}

@Suite("README snippet")
struct MilvusReadmeTests {
    /// The README's example, as written there but for the server's address and
    /// the collection's name.
    @Test("the README's example runs and finds what its comments say")
    func readmeExample() async throws {
        let configuration = try TestServer.configuration()
        let name = TestServer.uniqueName("photos")
        let index = try await MilvusIndex.open(
            MilvusCollection(
                name: name, dimension: 4, metric: .cosine, index: .hnsw(m: 16, efConstruction: 200),
                fields: [MilvusField("category", .string(maxLength: 64))]),
            configuration: configuration,
            searchParameters: MilvusSearchParameters(ef: 64))
        try await index.upsert([1, 0, 0, 0, 0, 1, 0, 0], ids: [1, 2], fields: ["category": [.string("shoes"), .string("hats")]])
        let nearest = try await index.search([1, 0.1, 0, 0], k: 1)  // 1
        let hats = try await index.search([1, 0.1, 0, 0], k: 1, where: .equals("category", .string("hats")))  // 2
        let inStock = try await index.search([1, 0.1, 0, 0], k: 1, filter: AllowList([2]))  // 2
        #expect(nearest.map(\.id) == [1])
        #expect(hats.map(\.id) == [2])
        #expect(inStock.map(\.id) == [2])
        _ = try await MilvusIndex.drop(name, configuration: configuration)
        index.close()
    }
}
