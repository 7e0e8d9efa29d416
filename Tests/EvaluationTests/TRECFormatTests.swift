import Evaluation
import Foundation
import SearchCore
import Testing

@Suite struct TRECFormatTests {
    struct Malformed: Sendable, CustomTestStringConvertible {
        var text: String
        var line: Int
        var reason: String
        var testDescription: String { "line \(line): \(reason)" }
    }

    static let badQrels: [Malformed] = [
        Malformed(text: "q1 0 d1 1\nq1 0 d2\n", line: 2, reason: "expected 4 fields"),
        Malformed(text: "q1 0 d1 1 extra\n", line: 1, reason: "expected 4 fields"),
        Malformed(text: "q1 0 d1 1\n\nq1 0 d2 high\n", line: 3, reason: "relevance \"high\" is not an integer"),
        Malformed(text: "q1 0 d1 1.5\n", line: 1, reason: "is not an integer"),
        Malformed(text: "q1 0 d1 1\nq2 0 d1 0\nq1 0 d1 2\n", line: 3, reason: "judged twice for query q1 (first on line 1)"),
    ]

    static let badRuns: [Malformed] = [
        Malformed(text: "q1 Q0 d1 1 0.5\n", line: 1, reason: "expected 6 fields"),
        Malformed(text: "q1 Q0 d1 1 0.5 t\nq1 Q0 d2 2 0.4 t x\n", line: 2, reason: "expected 6 fields"),
        Malformed(text: "q1 Q0 d1 first 0.5 t\n", line: 1, reason: "rank \"first\" is not an integer"),
        Malformed(text: "\n\nq1 Q0 d1 1 high t\n", line: 3, reason: "score \"high\" is not a number"),
        Malformed(text: "q1 Q0 d1 1 0.5 t\nq1 Q0 d2 2 nan t\n", line: 2, reason: "NaN"),
        Malformed(text: "q1 Q0 d1 1 0.5 t\nq1 Q0 d2 2 0.4 t\nq1 Q0 d1 3 0.3 t\n", line: 3,
                  reason: "listed twice for query q1 (first on line 1)"),
    ]

    @Test(arguments: badQrels) func malformedQrelsNameTheLine(_ bad: Malformed) {
        do {
            _ = try Qrels(trecText: bad.text)
            Issue.record("accepted \(bad.text.debugDescription)")
        } catch {
            #expect(error.code == .corruptData)
            #expect(error.message.hasPrefix("qrels line \(bad.line): "), "\(error.message)")
            #expect(error.message.contains(bad.reason), "\(error.message)")
        }
    }

    @Test(arguments: badRuns) func malformedRunsNameTheLine(_ bad: Malformed) {
        do {
            _ = try Run(trecText: bad.text)
            Issue.record("accepted \(bad.text.debugDescription)")
        } catch {
            #expect(error.code == .corruptData)
            #expect(error.message.hasPrefix("run line \(bad.line): "), "\(error.message)")
            #expect(error.message.contains(bad.reason), "\(error.message)")
        }
    }

    @Test func fileErrorsNameThePath() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).run")
        try Data("q1 Q0 d1 1 0.5 t\nq1 Q0 d2\n".utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        do {
            _ = try Run(contentsOf: url)
            Issue.record("accepted a bad file")
        } catch {
            #expect(error.code == .corruptData)
            #expect(error.message.hasPrefix("\(url.path) line 2: "))
        }
        do {
            _ = try Qrels(contentsOf: url.appendingPathExtension("missing"))
            Issue.record("read a missing file")
        } catch {
            #expect(error.code == .io)
        }
    }

    @Test func readsTabsCarriageReturnsAndBlankLines() throws {
        let qrels = try Qrels(trecText: "q1\t0\td1\t2\r\n\r\nq1 0 d2 -1\r\nq2 0 d1 0")
        #expect(qrels.queryIDs == ["q1", "q2"])
        #expect(qrels["q1"]?.grades == ["d1": 2, "d2": -1])
        #expect(qrels["q1"]?.relevantCount == 1)
        #expect(qrels.count == 3)
        let run = try Run(trecText: "q1\tQ0\td1\t1\t-inf\tmine\r\nq1 Q0 d2 2 1e3 other\n")
        #expect(run.name == "mine")
        #expect(run.ranking(for: "q1") == ["d2", "d1"])
        #expect(try Run(trecText: "").count == 0)
    }

    @Test func rankColumnIsIgnoredAndTiesBreakByIDDescending() throws {
        let run = try Run(
            trecText: """
                q Q0 doc10 1 0.5 t
                q Q0 Doc9 2 0.5 t
                q Q0 doc9 3 0.5 t
                q Q0 low 4 -1 t
                q Q0 high 5 2 t
                """)
        // strcmp order, descending: "doc9" > "doc10" > "Doc9".
        #expect(run.ranking(for: "q") == ["high", "doc9", "doc10", "Doc9", "low"])
    }

    @Test func writesTRECText() throws {
        var run = try Run(name: "sys")
        try run.append(document: "b", score: 0.25, query: "q2")
        try run.append(document: "a", score: 0.25, query: "q2")
        try run.append(document: "c", score: 3, query: "q1")
        #expect(run.trecText() == "q2 Q0 b 1 0.25 sys\nq2 Q0 a 2 0.25 sys\nq1 Q0 c 1 3.0 sys\n")
        var qrels = Qrels()
        try qrels.setGrade(1, document: "z", query: "q2")
        try qrels.setGrade(0, document: "a", query: "q2")
        #expect(qrels.trecText() == "q2 0 a 0\nq2 0 z 1\n")
        #expect(try Run(trecText: run.trecText()) == run)
        #expect(try Qrels(trecText: qrels.trecText()) == qrels)
    }

    @Test func inMemoryRunsKeepTheSamePolicy() throws {
        var run = try Run()
        try run.append(document: "d", score: 1, query: "q")
        do {
            try run.append(document: "d", score: 2, query: "q")
            Issue.record("duplicate accepted")
        } catch {
            #expect(error.code == .duplicateID)
        }
        #expect(run.count == 1)
        do {
            try run.append(document: "e", score: .nan, query: "q")
            Issue.record("NaN accepted")
        } catch {
            #expect(error.code == .invalidArgument)
        }
        #expect(throws: SearchError.self) { try run.append(document: "has space", score: 1, query: "q") }
        #expect(throws: SearchError.self) { try run.append(document: "x", score: 1, query: "") }
        #expect(throws: SearchError.self) { try Run(name: "two words") }
        var qrels = Qrels()
        #expect(throws: SearchError.self) { try qrels.setGrade(1, document: "a\tb", query: "q") }
    }
}
