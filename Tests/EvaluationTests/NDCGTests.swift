import Evaluation
import SearchCore
import Testing

@Suite struct NDCGTests {
    /// scikit-learn's `ndcg_score` (ties averaged) on seeded candidates, both gains.
    @Test func scoredCandidatesMatchScikitLearn() throws {
        let fixture = try Fixtures.json(Fixtures.DenseNDCG.self, "ndcg_dense.json")
        #expect(fixture.cases.count == 16)
        for (index, item) in fixture.cases.enumerated() {
            for (kText, reference) in item.expected {
                let k = try #require(Int(kText))
                let linear = try NDCG.atK(relevance: item.relevance, scores: item.scores, k: k)
                let exponential = try NDCG.atK(
                    relevance: item.relevance, scores: item.scores, k: k, gain: .exponential)
                let wantLinear = try #require(reference["linear"])
                let wantExponential = try #require(reference["exponential"])
                #expect(isClose(linear, wantLinear, Tolerance.measure), "case \(index) k=\(k): \(linear) vs \(wantLinear)")
                #expect(
                    isClose(exponential, wantExponential, Tolerance.measure),
                    "case \(index) k=\(k): \(exponential) vs \(wantExponential)")
            }
        }
    }

    @Test func batchMeanMatchesScikitLearn() throws {
        let fixture = try Fixtures.json(Fixtures.DenseNDCG.self, "ndcg_dense.json")
        let relevance = fixture.cases.map(\.relevance)
        let scores = fixture.cases.map(\.scores)
        let linear = try NDCG.atK(relevance: relevance, scores: scores, k: 5)
        let exponential = try NDCG.atK(relevance: relevance, scores: scores, k: 5, gain: .exponential)
        #expect(linear.count == fixture.cases.count)
        #expect(isClose(linear.mean, try #require(fixture.mean_at_5["linear"]), Tolerance.measure))
        #expect(isClose(exponential.mean, try #require(fixture.mean_at_5["exponential"]), Tolerance.measure))
    }

    /// The two gain conventions on one small case worked by hand.
    @Test func gainConventionsDiffer() throws {
        // Ranking b(0), a(3), c(1); ideal a(3), c(1), b(0).
        let judgements = Judgements(grades: ["a": 3, "b": 0, "c": 1])
        let linear = try NDCG.atK(["b", "a", "c"], judgements: judgements, k: 3)
        let exponential = try NDCG.atK(["b", "a", "c"], judgements: judgements, k: 3, gain: .exponential)
        // linear: (3/log2(3) + 1/2) / (3 + 1/log2(3))
        let log3 = 1.584962500721156
        #expect(isClose(linear, (3 / log3 + 0.5) / (3 + 1 / log3), 1e-15))
        // exponential: (7/log2(3) + 1/2) / (7 + 1/log2(3))
        #expect(isClose(exponential, (7 / log3 + 0.5) / (7 + 1 / log3), 1e-15))
        #expect(linear != exponential)
        #expect(NDCG.Gain.exponential.value(ofGrade: 3) == 7)
        #expect(NDCG.Gain.linear.value(ofGrade: 3) == 3)
        #expect(NDCG.Gain.exponential.value(ofGrade: -1) == 0)
    }

    @Test func idealIncludesJudgedItemsNotRetrieved() throws {
        let judgements = Judgements(grades: ["a": 1, "z": 3])
        // Only "a" retrieved; the ideal ranking still holds "z" first.
        let value = try NDCG.atK(["a"], judgements: judgements, k: 2)
        #expect(isClose(value, 1 / (3 + 1 / 1.584962500721156), 1e-15))
    }

    @Test func tiesAreAveragedForScores() throws {
        // scikit-learn: ndcg_score([[3, 2, 0]], [[1, 1, 1]]) == 0.8333…
        #expect(isClose(try NDCG.atK(relevance: [3, 2, 0], scores: [1, 1, 1], k: 3), 0.8333333333333334, 1e-15))
        // Reordering tied candidates changes nothing.
        #expect(
            try NDCG.atK(relevance: [0, 2, 3], scores: [1, 1, 1], k: 2)
                == NDCG.atK(relevance: [3, 2, 0], scores: [1, 1, 1], k: 2))
    }

    @Test func scoredCandidatesRejectBadInput() throws {
        #expect(throws: SearchError.self) { try NDCG.atK(relevance: [1, 2], scores: [1], k: 1) }
        #expect(throws: SearchError.self) { try NDCG.atK(relevance: [Double](), scores: [Double](), k: 1) }
        #expect(throws: SearchError.self) { try NDCG.atK(relevance: [-1, 2], scores: [1, 2], k: 1) }
        #expect(throws: SearchError.self) { try NDCG.atK(relevance: [1, 2], scores: [.nan, 2], k: 1) }
        #expect(throws: SearchError.self) { try NDCG.atK(relevance: [1, 2], scores: [1, 2], k: 0) }
        do {
            _ = try NDCG.atK(relevance: [1, 2], scores: [1, .nan], k: 2)
            Issue.record("NaN accepted")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("index 1"))
        }
    }
}
