import Evaluation
import Foundation
import SearchCore
import Testing

/// Score → probability of relevance maps against scikit-learn
/// (`scripts/fixtures/make_calibration_fixtures.py`).
@Suite struct CalibrationTests {
    struct Fixture: Decodable {
        struct Case: Decodable {
            var name: String
            var scores: [Double]
            var labels: [Bool]
            var platt: [String: Double]
            var grid: [Double]
            var platt_probabilities: [Double]
            var isotonic_probabilities: [Double]
        }
        var cases: [Case]
    }

    /// Platt: both minimise the same convex loss, Newton's method here to
    /// machine precision, L-BFGS in scikit-learn until its gradient norm is
    /// below 1e-6 — so parameters agree to about 1e-5 and probabilities
    /// closer. Isotonic: the same pooled means and interpolation, a few ulps.
    static let plattParameter = 1e-4
    static let plattProbability = 1e-5
    static let isotonic = 1e-12

    @Test func plattMatchesScikitLearn() throws {
        let fixture = try Fixtures.json(Fixture.self, "calibration.json")
        #expect(fixture.cases.count == 3)
        for c in fixture.cases {
            let fitted = try PlattScaling.fit(scores: c.scores, labels: c.labels)
            #expect(isClose(fitted.a, c.platt["a"]!, Self.plattParameter), "\(c.name): a \(fitted.a) vs \(c.platt["a"]!)")
            #expect(isClose(fitted.b, c.platt["b"]!, Self.plattParameter), "\(c.name): b \(fitted.b) vs \(c.platt["b"]!)")
            for (s, want) in zip(c.grid, c.platt_probabilities) {
                #expect(isClose(fitted.probability(s), want, Self.plattProbability), "\(c.name) at \(s)")
            }
        }
    }

    @Test func isotonicMatchesScikitLearn() throws {
        let fixture = try Fixtures.json(Fixture.self, "calibration.json")
        for c in fixture.cases {
            let fitted = try IsotonicRegression.fit(scores: c.scores, labels: c.labels)
            for (s, want) in zip(c.grid, c.isotonic_probabilities) {
                #expect(isClose(fitted.probability(s), want, Self.isotonic), "\(c.name) at \(s): \(fitted.probability(s)) vs \(want)")
            }
        }
    }

    @Test func badInputIsATypedError() {
        #expect(throws: SearchError.self) { try PlattScaling.fit(scores: [], labels: []) }
        #expect(throws: SearchError.self) { try PlattScaling.fit(scores: [1, .nan], labels: [true, false]) }
        #expect(throws: SearchError.self) { try IsotonicRegression.fit(scores: [1, .infinity], labels: [true, false]) }
        #expect(throws: SearchError.self) { try IsotonicRegression.fit(scores: [1], labels: [true, false]) }
        #expect(throws: SearchError.self) { try IsotonicRegression(thresholds: [2, 1], values: [0, 1]) }
        #expect(throws: SearchError.self) { try IsotonicRegression(thresholds: [1, 2], values: [1, 0]) }
    }

    @Test func separableScoresStayFinite() throws {
        // Perfectly separated labels: Platt's smoothed targets keep the optimum finite.
        let platt = try PlattScaling.fit(scores: [0, 1, 2, 3], labels: [false, false, true, true])
        #expect(platt.a.isFinite && platt.b.isFinite && platt.a < 0)
        #expect(platt.probability(3) > 0.5 && platt.probability(0) < 0.5)
        #expect(platt.probability(1e308) <= 1 && platt.probability(-1e308) >= 0)
    }
}
