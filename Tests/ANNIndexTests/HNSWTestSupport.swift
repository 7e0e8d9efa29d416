import ANNIndex
import Evaluation
import SearchCore
import _TestSupport

/// Small seeded data sets and helpers shared by the HNSW tests; sizes keep a
/// debug build on two cores fast.
enum HNSWFixture {
    static let data = ClusteredData(count: 3_000, queries: 100, dimension: 32, clusters: 30, seed: 42)

    static func configuration(
        encoding: VectorEncoding = .float32, threads: Int = 1, efConstruction: Int = 100, seed: UInt64 = 100
    ) -> HNSWIndex.Configuration {
        var configuration = HNSWIndex.Configuration()
        configuration.encoding = encoding
        configuration.buildThreads = threads
        configuration.efConstruction = efConstruction
        configuration.seed = seed
        return configuration
    }

    static func build(
        _ data: ClusteredData = data, metric: Metric = .innerProduct, encoding: VectorEncoding = .float32,
        threads: Int = 1, seed: UInt64 = 100
    ) throws -> HNSWIndex {
        let index = try HNSWIndex(
            dimension: data.dimension, metric: metric,
            configuration: configuration(encoding: encoding, threads: threads, seed: seed))
        try index.add(data.vectors, ids: data.ids)
        return index
    }

    static func oracle(_ data: ClusteredData = data, metric: Metric = .innerProduct) throws -> FlatIndex {
        let flat = FlatIndex(dimension: data.dimension, metric: metric)
        try flat.add(data.vectors, ids: data.ids)
        return flat
    }

    /// Mean recall@k of `index` against `flat` over the fixture's queries.
    static func recall<Filter: SearchFilter>(
        _ index: HNSWIndex, _ flat: FlatIndex, data: ClusteredData = data, k: Int = 10, ef: Int? = nil,
        filter: Filter = NoFilter()
    ) throws -> Double {
        var found: [[SearchHit]] = []
        var exact: [[SearchHit]] = []
        for q in 0..<data.queryCount {
            let query = data.query(q)
            found.append(try query.withUnsafeBufferPointer {
                try index.search($0, k: k, ef: ef ?? index.configuration.efSearch, filter: filter)
            })
            exact.append(try flat.search(query, k: k, filter: filter))
        }
        return try Recall.atK(found, exact: exact, k: k).mean
    }
}
