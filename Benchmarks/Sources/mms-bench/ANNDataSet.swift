import ANNIndex
import Foundation
import SearchCore

/// The seeded benchmark collection: a mixture of anisotropic Gaussian
/// clusters, L2-normalised, with exact ground truth; written as fvecs/ivecs
/// (little-endian: an Int32 dimension, then the components) so the anchors
/// read the very same bytes.
struct ANNDataSet: Sendable {
    let base: [Float]
    let queries: [Float]
    /// The exact `truthK` nearest base rows of every query, by inner product.
    let truth: [[Int32]]
    let dimension: Int
    var count: Int { base.count / dimension }
    var queryCount: Int { queries.count / dimension }

    struct Files {
        let base: String
        let queries: String
        let truth: String
    }

    static func files(directory: String, count: Int, queries: Int, dimension: Int, clusters: Int, seed: UInt64) -> Files {
        let stem = "\(directory)/clustered-\(count)x\(dimension)-q\(queries)-c\(clusters)-s\(seed)"
        return Files(base: stem + ".base.fvecs", queries: stem + ".query.fvecs", truth: stem + ".gt.ivecs")
    }

    /// Reads the files if they exist, else generates the set and writes them.
    static func load(
        directory: String, count: Int, queries: Int, dimension: Int, clusters: Int, seed: UInt64, truthK: Int
    ) throws -> (ANNDataSet, Files) {
        let files = files(
            directory: directory, count: count, queries: queries, dimension: dimension, clusters: clusters, seed: seed)
        let fm = FileManager.default
        if fm.fileExists(atPath: files.base) && fm.fileExists(atPath: files.queries) && fm.fileExists(atPath: files.truth) {
            let set = ANNDataSet(
                base: try readFvecs(files.base, dimension: dimension), queries: try readFvecs(files.queries, dimension: dimension),
                truth: try readIvecs(files.truth), dimension: dimension)
            return (set, files)
        }
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var random = ANNRandom(seed: seed)
        let mixture = Mixture(dimension: dimension, clusters: clusters, random: &random)
        let base = mixture.draw(count, random: &random)
        let queryRows = mixture.draw(queries, random: &random)
        let truth = try exactTruth(base: base, queries: queryRows, dimension: dimension, k: truthK)
        try writeFvecs(base, dimension: dimension, to: files.base)
        try writeFvecs(queryRows, dimension: dimension, to: files.queries)
        try writeIvecs(truth, to: files.truth)
        return (ANNDataSet(base: base, queries: queryRows, truth: truth, dimension: dimension), files)
    }

    /// What `Benchmarks/anchors/make_ann_datasets.py` writes beside a real set's files.
    struct Info: Decodable {
        var name: String
        /// "l2" or "cosine".
        var metric: String
        var dimension: Int
        var count: Int
        var queries: Int
        var source: String
    }

    /// A real set by name: `directory/NAME/{base.fvecs, query.fvecs, gt.ivecs, info.json}`, as
    /// `make_ann_datasets.py` writes them; the first `queryLimit` queries when given.
    static func named(_ name: String, directory: String, queryLimit: Int?) throws -> (ANNDataSet, Files, Metric, Info) {
        let folder = "\(directory)/\(name)"
        let files = Files(base: folder + "/base.fvecs", queries: folder + "/query.fvecs", truth: folder + "/gt.ivecs")
        guard let infoData = FileManager.default.contents(atPath: folder + "/info.json") else {
            throw ANNBenchError(
                "no data set \(name) under \(directory): run `.venv-bench/bin/python Benchmarks/anchors/make_ann_datasets.py "
                    + "--out \(directory) \(name)` (known: fashion-mnist-784-euclidean, debian-minilm-384-angular)")
        }
        let info = try JSONDecoder().decode(Info.self, from: infoData)
        let metric: Metric
        switch info.metric {
        case "l2": metric = .squaredL2
        case "cosine": metric = .cosine
        case "ip": metric = .innerProduct
        default: throw ANNBenchError("\(folder)/info.json: unknown metric \(info.metric)")
        }
        var queries = try readFvecs(files.queries, dimension: info.dimension)
        var truth = try readIvecs(files.truth)
        if let limit = queryLimit, limit < truth.count {
            queries = Array(queries.prefix(limit * info.dimension))
            truth = Array(truth.prefix(limit))
        }
        let set = ANNDataSet(
            base: try readFvecs(files.base, dimension: info.dimension), queries: queries, truth: truth,
            dimension: info.dimension)
        guard set.count == info.count, set.queryCount == truth.count else {
            throw ANNBenchError("\(folder): the files disagree with info.json (remake the set)")
        }
        return (set, files, metric, info)
    }

    /// Exact neighbours with the FlatIndex oracle (GEMM batches).
    static func exactTruth(base: [Float], queries: [Float], dimension: Int, k: Int) throws -> [[Int32]] {
        let flat = FlatIndex(dimension: dimension, metric: .innerProduct)
        try flat.add(base, ids: (0..<(base.count / dimension)).map { VectorID(UInt64($0)) })
        let q = queries.count / dimension
        var hits = [SearchHit](repeating: SearchHit(id: 0, distance: 0), count: q * k)
        var counts = [Int](repeating: 0, count: q)
        try queries.withUnsafeBufferPointer { queries in
            try hits.withUnsafeMutableBufferPointer { hits in
                try counts.withUnsafeMutableBufferPointer { counts in
                    try flat.search(batch: queries, k: k, filter: NoFilter(), into: hits, counts: counts)
                }
            }
        }
        return (0..<q).map { i in (0..<counts[i]).map { Int32(hits[i * k + $0].id.rawValue) } }
    }

    /// Cluster centres ~ N(0, I); each cluster's standard deviation decays
    /// over a random order of directions (anisotropic), from `spread` down to
    /// a floor of a tenth of it.
    struct Mixture {
        let dimension: Int
        var centres: [[Float]] = []
        var scales: [[Float]] = []

        init(dimension: Int, clusters: Int, spread: Float = 0.9, random: inout ANNRandom) {
            self.dimension = dimension
            for _ in 0..<clusters {
                centres.append((0..<dimension).map { _ in random.gaussian() })
                var scale = (0..<dimension).map { i in spread * (0.1 + 0.9 * Float(Foundation.exp(-Double(i) / Double(dimension / 8)))) }
                scale.shuffle(using: &random)
                scales.append(scale)
            }
        }

        func draw(_ n: Int, random: inout ANNRandom) -> [Float] {
            var out = [Float](repeating: 0, count: n * dimension)
            for r in 0..<n {
                let c = Int.random(in: 0..<centres.count, using: &random)
                var norm: Float = 0
                for i in 0..<dimension {
                    let v = centres[c][i] + scales[c][i] * random.gaussian()
                    out[r * dimension + i] = v
                    norm += v * v
                }
                let inverse = 1 / norm.squareRoot()
                for i in 0..<dimension { out[r * dimension + i] *= inverse }
            }
            return out
        }
    }

    // MARK: fvecs / ivecs

    static func writeFvecs(_ rows: [Float], dimension: Int, to path: String) throws {
        var data = Data(capacity: rows.count * 4 + rows.count / dimension * 4)
        for r in 0..<(rows.count / dimension) {
            withUnsafeBytes(of: Int32(dimension).littleEndian) { data.append(contentsOf: $0) }
            for i in 0..<dimension {
                withUnsafeBytes(of: rows[r * dimension + i].bitPattern.littleEndian) { data.append(contentsOf: $0) }
            }
        }
        try data.write(to: URL(fileURLWithPath: path))
    }

    static func writeIvecs(_ rows: [[Int32]], to path: String) throws {
        var data = Data()
        for row in rows {
            withUnsafeBytes(of: Int32(row.count).littleEndian) { data.append(contentsOf: $0) }
            for v in row { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        }
        try data.write(to: URL(fileURLWithPath: path))
    }

    static func readFvecs(_ path: String, dimension: Int) throws -> [Float] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let rowBytes = 4 * (dimension + 1)
        guard data.count % rowBytes == 0 else { throw ANNBenchError("\(path): not rows of \(dimension) floats") }
        var out = [Float](repeating: 0, count: data.count / rowBytes * dimension)
        data.withUnsafeBytes { raw in
            for r in 0..<(data.count / rowBytes) {
                let stored = Int32(littleEndian: raw.loadUnaligned(fromByteOffset: r * rowBytes, as: Int32.self))
                precondition(Int(stored) == dimension, "\(path): row \(r) has dimension \(stored)")
                for i in 0..<dimension {
                    let bits = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: r * rowBytes + 4 + 4 * i, as: UInt32.self))
                    out[r * dimension + i] = Float(bitPattern: bits)
                }
            }
        }
        return out
    }

    static func readIvecs(_ path: String) throws -> [[Int32]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        var rows: [[Int32]] = []
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let k = Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
                guard k >= 0, offset + 4 * (k + 1) <= raw.count else { throw ANNBenchError("\(path): truncated row") }
                rows.append((0..<k).map { Int32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 4 + 4 * $0, as: Int32.self)) })
                offset += 4 * (k + 1)
            }
        }
        return rows
    }
}

struct ANNBenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// SplitMix64 with a Box–Muller normal sampler, for the data set.
struct ANNRandom: RandomNumberGenerator {
    private var state: UInt64
    private var spare: Float?
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func gaussian() -> Float {
        if let value = spare {
            spare = nil
            return value
        }
        let u1 = Double(next() >> 11) * 0x1p-53 + 0x1p-54
        let u2 = Double(next() >> 11) * 0x1p-53
        let radius = (-2 * Foundation.log(u1)).squareRoot()
        spare = Float(radius * Foundation.sin(2 * Double.pi * u2))
        return Float(radius * Foundation.cos(2 * Double.pi * u2))
    }
}
