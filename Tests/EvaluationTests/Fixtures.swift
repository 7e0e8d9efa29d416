import Foundation
import Testing

/// Reads the committed fixtures written by
/// `scripts/fixtures/make_evaluation_fixtures.py`.
enum Fixtures {
    static func url(_ name: String) throws -> URL {
        let directory = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return directory.appendingPathComponent(name)
    }

    static func text(_ name: String) throws -> String {
        try String(contentsOf: url(name), encoding: .utf8)
    }

    static func json<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: url(name)))
    }

    struct Ranking: Decodable {
        var evaluated_queries: [String]
        var complete_queries: [String]
        var per_query: [String: [String: Double]]
        var mean: [String: Double]
        var mean_complete: [String: Double]
    }

    struct DenseNDCG: Decodable {
        struct Case: Decodable {
            var relevance: [Double]
            var scores: [Double]
            var expected: [String: [String: Double]]
        }
        var cases: [Case]
        var mean_at_5: [String: Double]
    }

    struct AUC: Decodable {
        struct Case: Decodable {
            var labels: [Int]
            var scores: [Double]
            var roc_auc: Double?
            var average_precision: Double
        }
        var cases: [Case]
    }

    struct Latency: Decodable {
        struct Case: Decodable {
            var seconds: [Double]
            var p50: Double
            var p90: Double
            var p99: Double
            var max: Double
            var mean: Double
        }
        var cases: [Case]
    }

    struct ExactRecall: Decodable {
        struct Query: Decodable {
            var retrieved: [UInt64]
            var exact: [UInt64]
        }
        struct Expected: Decodable {
            var per_query: [Double]
            var mean: Double
        }
        var queries: [Query]
        var expected: [String: Expected]
    }
}

/// Tolerances, and why.
///
/// Ranking measures are short sums of exact ratios; trec_eval, scikit-learn
/// and this module add them in possibly different orders and compute log₂
/// differently (scikit-learn divides natural logarithms), so results agree to
/// a few ulps. 1e-9 is far above that and far below any real change.
enum Tolerance {
    static let measure = 1e-9
    /// The issue allows AUC 1e-6; the rank-sum form is exact in practice, so
    /// tighter would pass too.
    static let auc = 1e-6
    /// Latencies are compared relative to their size: they pass through
    /// `Duration` (attosecond resolution) on the Swift side.
    static let relativeLatency = 1e-9
}

func isClose(_ a: Double, _ b: Double, _ tolerance: Double) -> Bool { abs(a - b) <= tolerance }
