import Foundation
import MilvusAdapter
import SearchCore

/// The server every test talks to: the one `MILVUS_URI` names, or else one
/// milvus-lite this test process starts on 127.0.0.1 and stops when it exits.
enum TestServer {
    private static let shared: Result<(MilvusLiteServer?, MilvusConfiguration), any Error> = Result {
        if let uri = ProcessInfo.processInfo.environment["MILVUS_URI"], !uri.isEmpty {
            var configuration = try MilvusConfiguration(uri: uri)
            configuration.token = ProcessInfo.processInfo.environment["MILVUS_TOKEN"]
            return (nil, configuration)
        }
        let server = try MilvusLiteServer()
        return (server, try MilvusConfiguration(uri: server.uri))
    }

    /// The configuration of the shared server.
    static func configuration() throws -> MilvusConfiguration { try shared.get().1 }

    /// Whether the tests started the server themselves (so they may kill one of their own).
    static var isLocal: Bool { ProcessInfo.processInfo.environment["MILVUS_URI"]?.isEmpty ?? true }

    /// A collection name no other test uses.
    static func uniqueName(_ stem: String) -> String {
        "mms_\(stem)_\(UInt32.random(in: 0...UInt32.max))"
    }
}

/// Seeded vectors, the same on every run.
struct Vectors {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `count × dimension` floats in [−1, 1), clustered around 16 centres so
    /// an approximate index has real work to do.
    mutating func make(_ count: Int, dimension: Int) -> [Float] {
        let centres = (0..<16).map { _ in (0..<dimension).map { _ in uniform() } }
        var out: [Float] = []
        out.reserveCapacity(count * dimension)
        for _ in 0..<count {
            let centre = centres[Int(next() % 16)]
            for d in 0..<dimension { out.append(centre[d] + 0.35 * uniform()) }
        }
        return out
    }

    mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 24) * 2 - 1 }
}

/// The exact distance under `metric`, in double precision.
func exactDistance(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>, _ metric: Metric) -> Double {
    var dot = 0.0
    var na = 0.0
    var nb = 0.0
    var l2 = 0.0
    for (x, y) in zip(a, b) {
        let dx = Double(x)
        let dy = Double(y)
        dot += dx * dy
        na += dx * dx
        nb += dy * dy
        l2 += (dx - dy) * (dx - dy)
    }
    switch metric {
    case .squaredL2: return l2
    case .innerProduct: return 1 - dot
    case .cosine: return 1 - dot / (na.squareRoot() * nb.squareRoot())
    }
}

/// The exact `k` nearest of `ids` to `query` allowed by `allows`, closest first.
func bruteForce(
    _ query: ArraySlice<Float>, vectors: [Float], ids: [VectorID], dimension: Int, metric: Metric, k: Int,
    allows: (VectorID) -> Bool = { _ in true }
) -> [(VectorID, Double)] {
    var all: [(VectorID, Double)] = []
    for (row, id) in ids.enumerated() where allows(id) {
        all.append((id, exactDistance(query, vectors[(row * dimension)..<((row + 1) * dimension)], metric)))
    }
    all.sort { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
    return Array(all.prefix(k))
}

extension Array where Element == Float {
    func row(_ r: Int, _ dimension: Int) -> ArraySlice<Float> { self[(r * dimension)..<((r + 1) * dimension)] }
}
