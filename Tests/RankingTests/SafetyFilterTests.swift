import Foundation
import Ranking
import SearchCore
import Testing

/// The safety filter's mechanics with a classifier whose label vectors are
/// the axes, so every score is known in closed form.
@Suite("Safety filter stage")
struct SafetyFilterTests {
    /// Labels along the axes of a 4-dimensional space; scores by the given scoring.
    struct AxisClassifier: EmbeddingClassifier {
        let labels = ["gore", "weapon", "food", "landscape"]
        let dimension = 4
        let scoring: ZeroShotScoring

        func scores(_ embedding: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
            try SearchError.checkDimension(embedding.count, expected: dimension)
            let norm = embedding.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for i in 0..<4 { output[i] = embedding[i] / norm }
            scoring.apply(toCosines: output)
        }
    }

    static func table() throws -> EmbeddingTable {
        var t = EmbeddingTable(dimension: 4)
        try t.set(1, [0, 0, 1, 0])  // food
        try t.set(2, [1, 0, 0, 0])  // gore
        try t.set(3, [0.6, 0.6, 0.4, 0.4])  // mixed: gore and weapon together outweigh the safe labels
        try t.set(4, [0, 0, 0.5, 1])  // landscape with some food
        try t.set(5, [0, 0.3, 1, 0])  // mostly food, a little weapon
        return t
    }

    static let candidates = [1, 2, 3, 4, 5, 6].map { RankedCandidate(id: VectorID(UInt64($0)), score: Double(10 - $0)) }

    /// Softmax over scale · cosines, in double: the reference for the exclusive case.
    static func softmax(_ cosines: [Double], scale: Double) -> [Double] {
        let e = cosines.map { exp(scale * $0) }
        let total = e.reduce(0, +)
        return e.map { $0 / total }
    }

    @Test("softmax scores: the unsafe labels' probabilities are summed; flagged results are removed, order kept, unknown items kept")
    func removeWithSoftmax() throws {
        let classifier = AxisClassifier(scoring: .softmax(scale: 10))
        let stage = try SafetyFilter(classifier: classifier, unsafeLabels: ["gore", "weapon"], threshold: 0.5, items: Self.table())
        // Item 3: cosines (0.6, 0.6, 0.4, 0.4)/|·| — the two unsafe labels share 2·e^{6a}/(2e^{6a}+2e^{4a}).
        let n = (0.36 + 0.36 + 0.16 + 0.16).squareRoot()
        let p = Self.softmax([0.6 / n, 0.6 / n, 0.4 / n, 0.4 / n], scale: 10)
        let unsafe3 = try #require(try stage.unsafeScore(of: 3))
        #expect(abs(Double(unsafe3) - (p[0] + p[1])) < 1e-6)
        #expect(unsafe3 > 0.5)
        // Item 5: mostly food; the unsafe share is small.
        let n5 = (0.09 + 1.0).squareRoot()
        let p5 = Self.softmax([0, 0.3 / n5, 1 / n5, 0], scale: 10)
        #expect(abs(Double(try #require(try stage.unsafeScore(of: 5))) - (p5[0] + p5[1])) < 1e-6)
        #expect(try stage.unsafeScore(of: 6) == nil)

        let out = try stage.rerank(Self.candidates, context: RankingContext())
        #expect(out.map(\.id) == [1, 4, 5, 6])
        #expect(out.allSatisfy { $0.explanation["unsafe"] == nil })
    }

    @Test("sigmoid scores: the largest unsafe label counts; demoted results go last with their unsafe score")
    func demoteWithSigmoid() throws {
        let classifier = AxisClassifier(scoring: .sigmoid(scale: 8, bias: -4))
        let stage = try SafetyFilter(
            classifier: classifier, unsafeLabels: ["gore", "weapon"], threshold: 0.5, action: .demote, items: Self.table())
        // Item 3: σ(8 · 0.6/n − 4) for gore and weapon alike; the maximum is that value.
        let n = (0.36 + 0.36 + 0.16 + 0.16).squareRoot()
        let expected = 1 / (1 + exp(-(8 * 0.6 / n - 4)))
        #expect(abs(Double(try #require(try stage.unsafeScore(of: 3))) - expected) < 1e-6)
        let out = try stage.rerank(Self.candidates, context: RankingContext())
        #expect(out.map(\.id) == [1, 4, 5, 6, 2, 3])
        #expect(out[4].explanation["unsafe"] != nil && out[5].explanation["unsafe"] != nil)
        #expect(abs(out[5].explanation["unsafe"]! - expected) < 1e-6)
        // A stricter threshold flags fewer.
        let lenient = try SafetyFilter(
            classifier: classifier, unsafeLabels: ["gore"], threshold: 0.95, action: .demote, items: Self.table())
        #expect(try lenient.rerank(Self.candidates, context: RankingContext()).map(\.id) == [1, 3, 4, 5, 6, 2])
    }

    @Test("the stage composes in a pipeline")
    func inPipeline() throws {
        let stage = try SafetyFilter(
            classifier: AxisClassifier(scoring: .softmax(scale: 10)), unsafeLabels: ["gore", "weapon"], threshold: 0.5,
            items: Self.table())
        let pipeline = RerankPipeline([stage, TruncateStage(2)])
        #expect(try pipeline.rerank(Self.candidates, context: RankingContext()).map(\.id) == [1, 4])
    }

    @Test("unknown unsafe labels, none, only unsafe labels under a softmax, a bad threshold or dimension are typed errors")
    func errors() throws {
        func code(_ body: () throws -> Void) -> SearchError.Code? {
            do { try body() } catch let e as SearchError { return e.code } catch { return nil }
            return nil
        }
        let softmax = AxisClassifier(scoring: .softmax(scale: 10))
        let table = try Self.table()
        #expect(code { _ = try SafetyFilter(classifier: softmax, unsafeLabels: ["nudity"], threshold: 0.5, items: table) } == .invalidArgument)
        #expect(code { _ = try SafetyFilter(classifier: softmax, unsafeLabels: [], threshold: 0.5, items: table) } == .invalidArgument)
        #expect(code {
            _ = try SafetyFilter(classifier: softmax, unsafeLabels: Set(softmax.labels), threshold: 0.5, items: table)
        } == .invalidArgument)
        #expect(code { _ = try SafetyFilter(classifier: softmax, unsafeLabels: ["gore"], threshold: 0, items: table) } == .invalidArgument)
        #expect(code { _ = try SafetyFilter(classifier: softmax, unsafeLabels: ["gore"], threshold: 1.5, items: table) } == .invalidArgument)
        #expect(code {
            _ = try SafetyFilter(classifier: softmax, unsafeLabels: ["gore"], threshold: 0.5, items: EmbeddingTable(dimension: 3))
        } == .dimensionMismatch)
        // Under a sigmoid every label may be unsafe: each is scored on its own.
        _ = try SafetyFilter(
            classifier: AxisClassifier(scoring: .sigmoid(scale: 1, bias: 0)), unsafeLabels: Set(softmax.labels), threshold: 0.5,
            items: table)
    }
}
