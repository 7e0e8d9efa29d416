import Foundation
@testable import Ranking
import SearchCore
import Testing

/// One fixture written by scripts/fixtures/make_ranking_fixtures.py: a LightGBM
/// model, rows, and LightGBM's own raw and transformed predictions.
struct LightGBMFixture: Decodable {
    var model: String
    var features: Int
    var rows: [[String]]
    var raw: [[String]]
    var transformed: [[String]]

    static func load(_ name: String) throws -> (LightGBMFixture, GradientBoostedTrees) {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"))
        let fixture = try JSONDecoder().decode(LightGBMFixture.self, from: Data(contentsOf: url))
        let modelURL = url.deletingLastPathComponent().appendingPathComponent(fixture.model)
        let model = try GradientBoostedTrees(lightGBMText: String(contentsOf: modelURL, encoding: .utf8))
        return (fixture, model)
    }

    /// Python `repr` strings ("nan" included) parse to the same doubles.
    static func numbers(_ table: [[String]]) -> [Double] {
        table.flatMap { $0.map { $0 == "nan" ? .nan : Double($0)! } }
    }
}

@Suite("GBDT scores equal LightGBM's")
struct GBDTParityTests {
    // LightGBM sums leaf values in double in tree order; so do we. The raw
    // scores should agree to the bit; 1e-9 is the issue's bar and leaves room
    // for a libm whose exp differs in the last ulp for the transforms.
    static let tolerance = 1e-9

    @Test(arguments: [
        "gbdt_binary_nan_categorical", "gbdt_regression_zero_missing", "gbdt_multiclass", "gbdt_bench_200x32",
        "gbdt_single_leaf_binary", "gbdt_single_leaf_multiclass", "gbdt_random_forest", "gbdt_regression_sqrt",
        "gbdt_poisson", "gbdt_cross_entropy", "gbdt_multiclass_ova", "gbdt_lambdarank",
    ])
    func parity(_ name: String) throws {
        let (fixture, model) = try LightGBMFixture.load(name)
        #expect(model.featureCount == fixture.features)
        let rows = LightGBMFixture.numbers(fixture.rows)
        let expectedRaw = LightGBMFixture.numbers(fixture.raw)
        let expected = LightGBMFixture.numbers(fixture.transformed)
        let raw = try model.rawScores(rows)
        let predicted = try model.predict(rows)
        #expect(raw.count == expectedRaw.count)
        #expect(predicted.count == expected.count)
        var worstRaw = 0.0
        var worstTransformed = 0.0
        for i in 0..<min(raw.count, expectedRaw.count) { worstRaw = max(worstRaw, abs(raw[i] - expectedRaw[i])) }
        for i in 0..<min(predicted.count, expected.count) {
            worstTransformed = max(worstTransformed, abs(predicted[i] - expected[i]))
        }
        #expect(worstRaw <= Self.tolerance, "\(name): worst raw difference \(worstRaw)")
        #expect(worstTransformed <= Self.tolerance, "\(name): worst transformed difference \(worstTransformed)")
    }

    /// Every scoring loop (chained, lockstep, general) on every fixture: the
    /// faster loops are chosen by what a model contains, so each is also run
    /// by switching the others off.
    @Test(arguments: [
        "gbdt_binary_nan_categorical", "gbdt_regression_zero_missing", "gbdt_multiclass", "gbdt_bench_200x32",
        "gbdt_single_leaf_binary", "gbdt_single_leaf_multiclass", "gbdt_random_forest", "gbdt_regression_sqrt",
        "gbdt_poisson", "gbdt_cross_entropy", "gbdt_multiclass_ova", "gbdt_lambdarank",
    ])
    func everyLoopAgrees(_ name: String) throws {
        let (fixture, model) = try LightGBMFixture.load(name)
        let rows = LightGBMFixture.numbers(fixture.rows)
        let expected = LightGBMFixture.numbers(fixture.raw)
        var lockstep = model
        lockstep.chainNodes = []
        var general = lockstep
        general.fastNodes = []
        for (loop, variant) in [("lockstep", lockstep), ("general", general)] {
            let raw = try variant.rawScores(rows)
            let worst = zip(raw, expected).map { abs($0 - $1) }.max() ?? .infinity
            #expect(raw.count == expected.count && worst <= Self.tolerance, "\(name), \(loop) loop: worst \(worst)")
        }
    }

    @Test func multiclassProbabilitiesSumToOne() throws {
        let (fixture, model) = try LightGBMFixture.load("gbdt_multiclass")
        #expect(model.outputCount == 3)
        let p = try model.predict(LightGBMFixture.numbers(fixture.rows))
        for r in 0..<(p.count / 3) {
            #expect(abs(p[3 * r] + p[3 * r + 1] + p[3 * r + 2] - 1) < 1e-12)
        }
    }

    @Test func shapeMismatchIsATypedError() throws {
        let (_, model) = try LightGBMFixture.load("gbdt_binary_nan_categorical")
        #expect(throws: SearchError.self) { try model.rawScores([1, 2, 3]) }
        do {
            _ = try model.rawScores([Double](repeating: 0, count: model.featureCount + 1))
            Issue.record("a ragged row should throw")
        } catch {
            #expect(error.code == .dimensionMismatch)
        }
    }

    @Test func corruptModelsAreRejectedWithTheirReason() throws {
        let (fixture, _) = try LightGBMFixture.load("gbdt_binary_nan_categorical")
        let url = try #require(Bundle.module.url(forResource: fixture.model, withExtension: nil, subdirectory: "Fixtures"))
        let text = try String(contentsOf: url, encoding: .utf8)
        let cases: [(String, String)] = [
            ("no header", "hello"),
            ("child out of range", text.replacingOccurrences(of: "left_child=1 4 7", with: "left_child=99 4 7")),
            ("feature out of range", text.replacingOccurrences(of: "split_feature=0 0 1", with: "split_feature=70 0 1")),
            ("short leaf values", text.replacingOccurrences(of: "leaf_value=-0.24846674681927178 ", with: "leaf_value=")),
            ("cycle", text.replacingOccurrences(of: "left_child=1 4 7", with: "left_child=1 0 7")),
            ("linear tree", text.replacingOccurrences(of: "is_linear=0", with: "is_linear=1")),
        ]
        for (what, corrupt) in cases {
            #expect(corrupt != text || what == "no header", "\(what): the fixture changed; the edit did not apply")
            #expect(throws: SearchError.self, "\(what)") { try GradientBoostedTrees(lightGBMText: corrupt) }
        }
    }
}
