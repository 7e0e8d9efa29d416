import Evaluation
import SearchCore
import Testing

/// The edge-case policy documented on `Measure`, one fact per test.
@Suite struct EdgeCaseTests {
    static let allMeasures: [Measure] = [
        .precision(at: 3), .recall(at: 3), .ndcg(at: 3), .ndcg(at: 3, gain: .exponential), .averagePrecision,
        .averagePrecision(at: 2), .reciprocalRank, .reciprocalRank(at: 2), .rPrecision, .hitRate(at: 3),
    ]

    @Test func queryWithoutRelevantItemsScoresZeroAndCounts() throws {
        var qrels = Qrels()
        try qrels.setGrade(0, document: "a", query: "none")
        try qrels.setGrade(-1, document: "b", query: "none")
        try qrels.setGrade(1, document: "a", query: "some")
        var run = try Run()
        for query in ["none", "some"] {
            try run.append(document: "a", score: 2, query: query)
            try run.append(document: "b", score: 1, query: query)
        }
        let report = try run.evaluate(against: qrels, measures: Self.allMeasures)
        #expect(report.queryIDs == ["none", "some"])
        for measure in Self.allMeasures {
            #expect(report.value(measure, query: "none") == 0, "\(measure)")
            let values = try #require(report[measure])
            #expect(values.count == 2)
            #expect(values.mean == (values.values[1]) / 2, "\(measure)")
        }
        #expect(report.value(.reciprocalRank, query: "some") == 1)
    }

    @Test func unjudgedAndUnansweredQueriesAreSkippedByDefault() throws {
        var qrels = Qrels()
        try qrels.setGrade(1, document: "a", query: "judged")
        try qrels.setGrade(1, document: "a", query: "unanswered")
        var run = try Run()
        try run.append(document: "a", score: 1, query: "judged")
        try run.append(document: "a", score: 1, query: "unjudged")
        let report = try run.evaluate(against: qrels, measures: [.hitRate(at: 1)])
        #expect(report.queryIDs == ["judged"])
        #expect(report[.hitRate(at: 1)]?.mean == 1)
        let complete = try run.evaluate(against: qrels, measures: [.hitRate(at: 1)], queries: .allJudged)
        #expect(complete.queryIDs == ["judged", "unanswered"])
        #expect(complete[.hitRate(at: 1)]?.values == [1, 0])
        #expect(complete.value(.hitRate(at: 1), query: "unjudged") == nil)
    }

    @Test func fewerThanKResults() throws {
        let judgements = Judgements(grades: ["a": 1, "b": 1])
        let ranking = ["a"]
        #expect(try Precision.atK(ranking, judgements: judgements, k: 10) == 0.1)  // divides by k
        #expect(try Recall.atK(ranking, judgements: judgements, k: 10) == 0.5)
        #expect(try HitRate.atK(ranking, judgements: judgements, k: 10) == 1)
        #expect(try RPrecision.of(ranking, judgements: judgements) == 0.5)  // R = 2 > 1 retrieved
        #expect(try AveragePrecision.of(ranking, judgements: judgements) == 0.5)  // b never found
        #expect(try AveragePrecision.of([String](), judgements: judgements) == 0)
        #expect(try Precision.atK([String](), judgements: judgements, k: 1) == 0)
    }

    @Test func cutoffsApply() throws {
        let judgements = Judgements(relevant: ["c"])
        let ranking = ["a", "b", "c"]
        #expect(try ReciprocalRank.of(ranking, judgements: judgements) == 1.0 / 3)
        #expect(try ReciprocalRank.of(ranking, judgements: judgements, k: 2) == 0)
        #expect(try AveragePrecision.of(ranking, judgements: judgements, k: 2) == 0)
        #expect(try AveragePrecision.of(ranking, judgements: judgements, k: 3) == 1.0 / 3)
        #expect(try HitRate.atK(ranking, judgements: judgements, k: 2) == 0)
        #expect(try Recall.atK(ranking, judgements: judgements, k: 3) == 1)
    }

    @Test func duplicateIDsInARankingThrow() throws {
        let judgements = Judgements(relevant: ["a"])
        let ranking = ["a", "b", "a"]
        // Untyped closures: a typed-throws closure literal in an array
        // crashes Swift 6.3.1's IR generation.
        let calls: [(String, () throws -> Double)] = [
            ("recall", { try Recall.atK(ranking, judgements: judgements, k: 3) }),
            ("precision", { try Precision.atK(ranking, judgements: judgements, k: 3) }),
            ("ndcg", { try NDCG.atK(ranking, judgements: judgements, k: 3) }),
            ("average precision", { try AveragePrecision.of(ranking, judgements: judgements) }),
            ("reciprocal rank", { try ReciprocalRank.of(ranking, judgements: judgements) }),
            ("r-precision", { try RPrecision.of(ranking, judgements: judgements) }),
            ("hit rate", { try HitRate.atK(ranking, judgements: judgements, k: 3) }),
        ]
        for (name, call) in calls {
            do {
                _ = try call()
                Issue.record("\(name) accepted a duplicate")
            } catch let error as SearchError {
                #expect(error.code == .invalidArgument, "\(name)")
                #expect(error.message.contains("ranks 1 and 3"), "\(name)")
            } catch {
                Issue.record("\(name) threw \(error)")
            }
        }
    }

    @Test func cutoffBelowOneThrows() throws {
        let judgements = Judgements(relevant: ["a"])
        #expect(throws: SearchError.self) { try Recall.atK(["a"], judgements: judgements, k: 0) }
        #expect(throws: SearchError.self) { try Precision.atK(["a"], judgements: judgements, k: -1) }
        #expect(throws: SearchError.self) { try ReciprocalRank.of(["a"], judgements: judgements, k: 0) }
        let run = try Run()
        #expect(throws: SearchError.self) { try run.evaluate(against: Qrels(), measures: [.ndcg(at: 0)]) }
    }

    @Test func negativeGradesAreNeverRelevant() throws {
        let judgements = Judgements(grades: ["a": -1, "b": 2])
        #expect(judgements.relevantCount == 1)
        #expect(!judgements.isRelevant("a"))
        #expect(try Precision.atK(["a"], judgements: judgements, k: 1) == 0)
        #expect(try NDCG.atK(["a", "b"], judgements: judgements, k: 2) == 1 / 1.584962500721156)
    }

    @Test func judgementsTrackTheRelevantCount() throws {
        var judgements = Judgements<Int>()
        judgements.setGrade(2, for: 1)
        judgements.setGrade(1, for: 2)
        #expect(judgements.relevantCount == 2)
        judgements.setGrade(0, for: 1)
        #expect(judgements.relevantCount == 1)
        judgements.setGrade(3, for: 2)
        #expect(judgements.relevantCount == 1)
        #expect(judgements[2] == 3)
        #expect(judgements.count == 2)
        #expect(Judgements(relevant: [1, 1, 2]).relevantCount == 2)
    }

    @Test func measureNamesRoundTrip() throws {
        for measure in Self.allMeasures {
            #expect(Measure(trecName: measure.description) == measure, "\(measure)")
        }
        #expect(Measure.precision(at: 10).description == "P_10")
        #expect(Measure.ndcg(at: 10).description == "ndcg_cut_10")
        #expect(Measure.ndcg(at: 10, gain: .exponential).description == "ndcg_cut_exp_10")
        #expect(Measure.averagePrecision.description == "map")
        #expect(Measure.hitRate(at: 1).description == "success_1")
        for bad in ["P_", "P_0", "ndcg", "MAP", "recall_x", "success_-1"] {
            #expect(Measure(trecName: bad) == nil, "\(bad)")
        }
    }

    @Test func reportPrintsLikeTrecEval() throws {
        var qrels = Qrels()
        try qrels.setGrade(1, document: "a", query: "q")
        var run = try Run()
        try run.append(document: "a", score: 1, query: "q")
        let report = try run.evaluate(against: qrels, measures: [.averagePrecision, .averagePrecision, .precision(at: 1)])
        #expect(report.measures == [.averagePrecision, .precision(at: 1)])
        #expect(report.description == "num_q\tall\t1\nmap\tall\t1.0\nP_1\tall\t1.0\n")
    }

    @Test func vectorIDsWorkDirectly() throws {
        let exact = Judgements<VectorID>(relevant: [1, 2, 3])
        #expect(try Recall.atK([3, 9, 1] as [VectorID], judgements: exact, k: 2) == 1.0 / 3)
    }
}

@Suite struct MeasureBatchTests {
    @Test func batchesAgreeWithTheRunReport() throws {
        let qrels = try Qrels(contentsOf: Fixtures.url("ranking.qrels"))
        let run = try Run(contentsOf: Fixtures.url("ranking.run"))
        let measures: [Measure] = [.ndcg(at: 10), .reciprocalRank, .averagePrecision(at: 10), .recall(at: 20)]
        let report = try run.evaluate(against: qrels, measures: measures)
        let rankings = report.queryIDs.map { run.ranking(for: $0) }
        let judgements = try report.queryIDs.map { try #require(qrels[$0]) }
        for measure in measures {
            let batch = try measure.values(of: rankings, judgements: judgements)
            #expect(batch == report[measure], "\(measure)")
            #expect(try measure.value(of: rankings[3], judgements: judgements[3]) == batch.values[3])
        }
    }

    @Test func batchesRejectMismatchAndDuplicates() throws {
        let judgements = [Judgements(relevant: ["a"])]
        #expect(throws: SearchError.self) { try Measure.rPrecision.values(of: [["a"], ["b"]], judgements: judgements) }
        #expect(throws: SearchError.self) { try Measure.rPrecision.values(of: [["a", "a"]], judgements: judgements) }
        #expect(throws: SearchError.self) { try Measure.hitRate(at: 0).value(of: ["a"], judgements: judgements[0]) }
        #expect(try Measure.rPrecision.values(of: [["a"]], judgements: judgements).mean == 1)
        #expect(MetricValues([]).mean == 0)
    }
}
