import Evaluation
import SearchCore
import Testing

/// Recall of approximate results against exact ones: the ANN benchmark's number.
@Suite struct ExactRecallTests {
    @Test func matchesPytrecEval() throws {
        let fixture = try Fixtures.json(Fixtures.ExactRecall.self, "ann_recall.json")
        let retrieved = fixture.queries.map { $0.retrieved.map(VectorID.init(rawValue:)) }
        let exact = fixture.queries.map { $0.exact.map(VectorID.init(rawValue:)) }
        #expect(fixture.expected.count == 3)
        for (kText, reference) in fixture.expected {
            let k = try #require(Int(kText))
            let recall = try Recall.atK(retrieved, exact: exact, k: k)
            #expect(recall.count == reference.per_query.count)
            for (query, (got, want)) in zip(recall.values, reference.per_query).enumerated() {
                #expect(isClose(got, want, Tolerance.measure), "k=\(k) query \(query): \(got) vs \(want)")
            }
            #expect(isClose(recall.mean, reference.mean, Tolerance.measure))
        }
    }

    @Test func searchHitsAreMatchedByID() throws {
        let exact = [[SearchHit(id: 1, distance: 0.1), SearchHit(id: 2, distance: 0.2)]]
        // Same ids with different (approximate) distances, and one miss.
        let approximate = [[SearchHit(id: 2, distance: 0.25), SearchHit(id: 9, distance: 0.3)]]
        let recall = try Recall.atK(approximate, exact: exact, k: 2)
        #expect(recall.values == [0.5])
        #expect(try Recall.atK(exact, exact: exact, k: 2).mean == 1)
    }

    @Test func fewerThanKExactNeighboursCanStillScoreOne() throws {
        let recall = try Recall.atK([[3, 1] as [VectorID]], exact: [[1, 3]], k: 10)
        #expect(recall.values == [1])
    }

    @Test func emptyExactListScoresZeroAndCounts() throws {
        let recall = try Recall.atK([[], [1]] as [[VectorID]], exact: [[], [1]], k: 5)
        #expect(recall.values == [0, 1])
        #expect(recall.mean == 0.5)
    }

    @Test func rejectsDuplicatesAndMismatchedBatches() throws {
        do {
            _ = try Recall.atK([[1, 2, 1]] as [[VectorID]], exact: [[1, 2, 3]], k: 3)
            Issue.record("duplicate accepted")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("ranks 1 and 3"))
        }
        #expect(throws: SearchError.self) { try Recall.atK([[1]] as [[VectorID]], exact: [[1], [2]], k: 1) }
        #expect(throws: SearchError.self) { try Recall.atK([[1]] as [[VectorID]], exact: [[1]], k: 0) }
    }
}
