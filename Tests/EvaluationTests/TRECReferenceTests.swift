import Evaluation
import Foundation
import Testing

/// The ranking measures on a seeded TREC qrels and run, against pytrec_eval
/// (trec_eval's C code) and, for exponential-gain NDCG, scikit-learn.
@Suite struct TRECReferenceTests {
    let qrels: Qrels
    let run: Run
    let expected: Fixtures.Ranking

    init() throws {
        qrels = try Qrels(contentsOf: Fixtures.url("ranking.qrels"))
        run = try Run(contentsOf: Fixtures.url("ranking.run"))
        expected = try Fixtures.json(Fixtures.Ranking.self, "ranking_expected.json")
    }

    var measures: [Measure] {
        get throws {
            try expected.per_query.keys.sorted().map { name in try #require(Measure(trecName: name), "\(name)") }
        }
    }

    @Test func fixtureIsWhatTheTestsNeed() throws {
        #expect(run.name == "fixture")
        #expect(qrels.queryIDs.count == 24)
        #expect(run.queryIDs.contains("q90"))  // answered, never judged
        #expect(run.entries(for: "q23").isEmpty)  // judged, never answered
        #expect(qrels["q05"]?.relevantCount == 0)
        #expect(run.entries(for: "q11").count == 1)  // fewer than every k but 1
        #expect(try measures.count == 24)
        // Ties that trec_eval breaks by id: more entries than distinct scores.
        let entries = run.entries(for: "q01")
        #expect(Set(entries.map(\.score)).count < entries.count)
    }

    @Test func perQueryValuesMatchPytrecEval() throws {
        let report = try run.evaluate(against: qrels, measures: measures)
        #expect(report.queryIDs == expected.evaluated_queries)
        for measure in try measures {
            let reference = try #require(expected.per_query[measure.description])
            for query in expected.evaluated_queries {
                let value = try #require(report.value(measure, query: query))
                let want = try #require(reference[query])
                #expect(isClose(value, want, Tolerance.measure), "\(measure) \(query): \(value) vs \(want)")
            }
        }
    }

    @Test func meansMatchPytrecEval() throws {
        let report = try run.evaluate(against: qrels, measures: measures)
        for measure in try measures {
            let mean = try #require(report[measure]).mean
            let want = try #require(expected.mean[measure.description])
            #expect(isClose(mean, want, Tolerance.measure), "\(measure): \(mean) vs \(want)")
        }
    }

    @Test func allJudgedCountsMissingQueriesAsZero() throws {
        let report = try run.evaluate(against: qrels, measures: measures, queries: .allJudged)
        #expect(report.queryIDs == expected.complete_queries)
        for measure in try measures {
            #expect(report.value(measure, query: "q24") == 0)
            let mean = try #require(report[measure]).mean
            let want = try #require(expected.mean_complete[measure.description])
            #expect(isClose(mean, want, Tolerance.measure), "\(measure): \(mean) vs \(want)")
        }
    }

    @Test func perQueryFunctionsAgreeWithTheReport() throws {
        let report = try run.evaluate(
            against: qrels,
            measures: [
                .precision(at: 5), .recall(at: 10), .ndcg(at: 10, gain: .exponential), .averagePrecision,
                .reciprocalRank, .rPrecision, .hitRate(at: 5),
            ])
        for query in report.queryIDs {
            let ranking = run.ranking(for: query)
            let judgements = try #require(qrels[query])
            #expect(try Precision.atK(ranking, judgements: judgements, k: 5) == report.value(.precision(at: 5), query: query))
            #expect(try Recall.atK(ranking, judgements: judgements, k: 10) == report.value(.recall(at: 10), query: query))
            #expect(
                try NDCG.atK(ranking, judgements: judgements, k: 10, gain: .exponential)
                    == report.value(.ndcg(at: 10, gain: .exponential), query: query))
            #expect(try AveragePrecision.of(ranking, judgements: judgements) == report.value(.averagePrecision, query: query))
            #expect(try ReciprocalRank.of(ranking, judgements: judgements) == report.value(.reciprocalRank, query: query))
            #expect(try RPrecision.of(ranking, judgements: judgements) == report.value(.rPrecision, query: query))
            #expect(try HitRate.atK(ranking, judgements: judgements, k: 5) == report.value(.hitRate(at: 5), query: query))
        }
    }

    @Test func filesSurviveARoundTrip() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("eval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try qrels.write(to: directory.appendingPathComponent("q.qrels"))
        try run.write(to: directory.appendingPathComponent("r.run"))
        let qrelsBack = try Qrels(contentsOf: directory.appendingPathComponent("q.qrels"))
        let runBack = try Run(contentsOf: directory.appendingPathComponent("r.run"))
        #expect(qrelsBack == qrels)
        #expect(runBack == run)
        for query in run.queryIDs {
            #expect(runBack.ranking(for: query) == run.ranking(for: query))
        }
    }
}
