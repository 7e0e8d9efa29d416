import SearchCore

/// Seeded vectors drawn from a mixture of anisotropic Gaussian clusters and
/// scaled to unit length: the shape of real embedding collections (topics,
/// each spread more along some directions than others), on which an ANN
/// index's recall means something. Uniform random vectors would not do: in
/// high dimension every point is nearly equidistant from every other.
///
/// ```swift
/// let data = ClusteredData(count: 2_000, queries: 100, dimension: 32, clusters: 20, seed: 7)
/// try index.add(data.vectors, ids: data.ids)
/// ```
public struct ClusteredData: Sendable {
    /// `count × dimension` floats, row-major, each row of unit length.
    public let vectors: [Float]
    /// `queries × dimension` floats, drawn from the same mixture.
    public let queries: [Float]
    public let dimension: Int
    public let count: Int
    public let queryCount: Int

    /// Identifiers 0 ..< count.
    public var ids: [VectorID] { (0..<count).map { VectorID(UInt64($0)) } }

    /// Row `i` of the base vectors.
    public func vector(_ i: Int) -> [Float] { Array(vectors[(i * dimension)..<((i + 1) * dimension)]) }

    /// Query `i`.
    public func query(_ i: Int) -> [Float] { Array(queries[(i * dimension)..<((i + 1) * dimension)]) }

    /// - Parameters:
    ///   - spread: the largest per-direction standard deviation of a cluster,
    ///     relative to the spread of the centres (1).
    public init(count: Int, queries: Int, dimension: Int, clusters: Int, seed: UInt64, spread: Float = 0.35) {
        var random = SeededGenerator(seed: seed)
        self.dimension = dimension
        self.count = count
        queryCount = queries
        var centres: [[Float]] = []
        var scales: [[Float]] = []
        for _ in 0..<clusters {
            centres.append(random.gaussians(dimension))
            // Anisotropic: standard deviations decay over a random order of directions.
            var scale = (0..<dimension).map { i in spread * Float(0.15 + 0.85 * pow(0.9, Double(i))) }
            scale.shuffle(using: &random)
            scales.append(scale)
        }
        func draw(_ n: Int) -> [Float] {
            var out = [Float](repeating: 0, count: n * dimension)
            for r in 0..<n {
                let c = Int.random(in: 0..<clusters, using: &random)
                var norm: Float = 0
                for i in 0..<dimension {
                    let v = centres[c][i] + scales[c][i] * random.nextGaussian()
                    out[r * dimension + i] = v
                    norm += v * v
                }
                let inverse = 1 / max(norm.squareRoot(), 1e-20)
                for i in 0..<dimension { out[r * dimension + i] *= inverse }
            }
            return out
        }
        vectors = draw(count)
        self.queries = draw(queries)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
