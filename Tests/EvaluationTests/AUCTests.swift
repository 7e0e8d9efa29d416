import Evaluation
import SearchCore
import Testing

@Suite struct AUCTests {
    /// scikit-learn's `roc_auc_score` and `average_precision_score` on seeded
    /// scores with many ties.
    @Test func matchScikitLearn() throws {
        let fixture = try Fixtures.json(Fixtures.AUC.self, "auc.json")
        #expect(fixture.cases.count == 25)
        var rocCases = 0
        for (index, item) in fixture.cases.enumerated() {
            let labels = item.labels.map { $0 == 1 }
            let ap = try PRAUC.of(labels: labels, scores: item.scores)
            #expect(
                isClose(ap, item.average_precision, Tolerance.auc),
                "case \(index): AP \(ap) vs \(item.average_precision)")
            if let want = item.roc_auc {
                rocCases += 1
                let roc = try ROCAUC.of(labels: labels, scores: item.scores)
                #expect(isClose(roc, want, Tolerance.auc), "case \(index): ROC AUC \(roc) vs \(want)")
            } else {
                #expect(throws: SearchError.self) { try ROCAUC.of(labels: labels, scores: item.scores) }
            }
        }
        #expect(rocCases >= 20)
    }

    @Test func tiesCountHalf() throws {
        // One positive tied with one negative, above another negative:
        // pairs (p, n1) tie → ½, (p, n2) win → 1; AUC = 1.5 / 2.
        #expect(try ROCAUC.of(labels: [true, false, false], scores: [0.5, 0.5, 0.1]) == 0.75)
        #expect(try ROCAUC.of(labels: [true, false, true, false], scores: [2, 2, 2, 2]) == 0.5)
        // Average precision with every score tied is the share of positives.
        #expect(try PRAUC.of(labels: [true, false, true, false], scores: [2, 2, 2, 2]) == 0.5)
        // Input order never matters.
        #expect(
            try ROCAUC.of(labels: [false, true, false], scores: [0.5, 0.5, 0.1])
                == ROCAUC.of(labels: [true, false, false], scores: [0.5, 0.5, 0.1]))
    }

    @Test func infiniteScoresAreOrdered() throws {
        #expect(try ROCAUC.of(labels: [true, false], scores: [.infinity, -.infinity]) == 1)
        #expect(try PRAUC.of(labels: [false, true], scores: [.infinity, 0]) == 0.5)
    }

    @Test func undefinedOrBadInputThrows() throws {
        for labels in [[true, true], [false, false]] {
            do {
                _ = try ROCAUC.of(labels: labels, scores: [0.1, 0.2])
                Issue.record("one class accepted")
            } catch {
                #expect(error.code == .invalidArgument)
                #expect(error.message.contains("one class"))
            }
        }
        #expect(throws: SearchError.self) { try ROCAUC.of(labels: [true, false], scores: [.nan, 1]) }
        #expect(throws: SearchError.self) { try PRAUC.of(labels: [true, false], scores: [1, .nan]) }
        #expect(throws: SearchError.self) { try PRAUC.of(labels: [true], scores: [1, 2]) }
        #expect(throws: SearchError.self) { try ROCAUC.of(labels: [], scores: []) }
        // No positive: average precision is 0, as scikit-learn returns.
        #expect(try PRAUC.of(labels: [false, false], scores: [1, 2]) == 0)
    }
}
