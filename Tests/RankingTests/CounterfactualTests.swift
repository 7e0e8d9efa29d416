import Evaluation
import Foundation
import Ranking
import SearchCore
import Testing

/// The engagement simulator's logged sessions (shown in retrieval order, with
/// position bias r^−0.9) replayed against three rankers: the one that made the
/// log, a better one (true click probabilities, blurred) and a worse one
/// (least likely clicks first). IPS must recover each ranker's true
/// expected DCG@10 — computed from the simulator's click probabilities, which
/// no estimator sees — and order them as the judged NDCG@10 does; unweighted
/// clicks must not.
@Suite struct CounterfactualTests {
    struct Replay {
        var estimate: CounterfactualEstimate
        /// Mean over sessions of Σ P(click | examined, d) · λ(new rank of d).
        var truth: Double
        /// Σ P·λ / Σ P over every session: what SNIPS converges to.
        var truthPerClick: Double
        /// Judged NDCG@10 of the new order against the simulator's graded ground truth.
        var judgedNDCG: Double
    }

    static let sessions = 3_000
    static let k = 10

    func replay(
        _ simulator: EngagementSimulator, _ logged: [SimulatedSession], order: (SimulatedSession) -> [VectorID]
    ) throws -> Replay {
        let shown = simulator.configuration.shownPerSession
        let examination = (1...shown).map { pow(Double($0), -simulator.configuration.positionBiasExponent) }
        var logs: [LoggedList<VectorID>] = []
        var orders: [[VectorID]] = []
        var truth = 0.0
        var truthWeights = 0.0
        var ndcg: [Double] = []
        for session in logged {
            let shownItems = Array(session.candidates.prefix(shown))
            let clicked = Set(session.events.filter { $0.kind == .click }.map(\.item))
            logs.append(LoggedList(shown: shownItems, clicked: clicked))
            let newOrder = order(session)
            orders.append(newOrder)
            var grades: [VectorID: Int] = [:]
            for (position, id) in shownItems.enumerated() {
                let p = session.clickProbability[position]
                let rank = newOrder.firstIndex(of: id)! + 1
                truth += p * (rank <= Self.k ? 1 / log2(Double(rank) + 1) : 0)
                truthWeights += p
                grades[id] = Int(session.relevance[position])
            }
            ndcg.append(try NDCG.atK(newOrder, judgements: Judgements(grades: grades), k: Self.k))
        }
        var next = 0
        let estimate = try CounterfactualEvaluation.estimate(logs, examination: examination, k: Self.k) { _ in
            defer { next += 1 }
            return orders[next]
        }
        return Replay(
            estimate: estimate, truth: truth / Double(logged.count), truthPerClick: truth / truthWeights,
            judgedNDCG: MetricValues(ndcg).mean)
    }

    @Test func ipsRecoversEachRankersTrueQuality() throws {
        let simulator = EngagementSimulator(configuration: .init(seed: 11))
        let shown = simulator.configuration.shownPerSession
        let logged = (0..<Self.sessions).map { simulator.session($0) }
        var rng = SplitMix64(seed: 1)
        let noise = (0..<simulator.configuration.itemCount).map { _ in Double.random(in: -0.15...0.15, using: &rng) }

        let logging = try replay(simulator, logged) { Array($0.candidates.prefix(shown)) }
        let better = try replay(simulator, logged) { session in
            // The user's true click probability, blurred: a ranker that learned tastes well.
            let items = Array(session.candidates.prefix(shown))
            let keyed = items.enumerated().map { ($1, session.clickProbability[$0] + noise[Int($1.rawValue)]) }
            return keyed.sorted { $0.1 > $1.1 }.map(\.0)
        }
        let worse = try replay(simulator, logged) { session in
            // Least likely to be clicked first.
            let items = Array(session.candidates.prefix(shown))
            let keyed = items.enumerated().map { ($1, session.clickProbability[$0]) }
            return keyed.sorted { $0.1 < $1.1 }.map(\.0)
        }

        for (name, r) in [("logging", logging), ("better", better), ("worse", worse)] {
            // Unbiased: within 4 standard errors of the truth.
            #expect(
                abs(r.estimate.ips - r.truth) <= 4 * r.estimate.ipsStandardError,
                "\(name): IPS \(r.estimate) against a true \(r.truth)")
            // SNIPS is consistent for Σ P·λ / Σ P: within 4 of its standard errors.
            #expect(
                abs(r.estimate.snips - r.truthPerClick) <= 4 * r.estimate.snipsStandardError,
                "\(name): SNIPS \(r.estimate) against \(r.truthPerClick)")
        }
        // IPS orders the rankers as the truth and the judged NDCG@10 do.
        #expect(better.truth > logging.truth && logging.truth > worse.truth)
        #expect(better.judgedNDCG > logging.judgedNDCG && logging.judgedNDCG > worse.judgedNDCG)
        #expect(better.estimate.ips > logging.estimate.ips && logging.estimate.ips > worse.estimate.ips)
        // Ignoring position bias flatters the ranker that made the log.
        #expect(logging.estimate.naive / logging.truth > 1.5 * (worse.estimate.naive / worse.truth))
    }

    /// The doc comment's example, as written there.
    @Test func documentedExample() throws {
        let logs = [LoggedList(shown: ["a", "b", "c"], clicked: ["b"])]
        let examination = (1...3).map { pow(Double($0), -0.9) }
        let estimate = try CounterfactualEvaluation.estimate(logs, examination: examination, k: 3) { list in
            Array(list.shown.reversed())
        }
        #expect(abs(estimate.ips - 1 / log2(3.0) / pow(2, -0.9)) < 1e-12)
    }

    @Test func rejectsWhatCannotBeEstimated() throws {
        let logs = [LoggedList(shown: ["a", "b"], clicked: ["b"])]
        let examination = [1.0, 0.5]
        #expect(throws: SearchError.self) {
            _ = try CounterfactualEvaluation.estimate(logs, examination: examination, k: 2) { _ in ["a", "c"] }
        }
        #expect(throws: SearchError.self) {
            _ = try CounterfactualEvaluation.estimate(logs, examination: examination, k: 2) { _ in ["a", "a"] }
        }
        #expect(throws: SearchError.self) {
            _ = try CounterfactualEvaluation.estimate(logs, examination: [1.0, 0], k: 2) { $0.shown }
        }
        #expect(throws: SearchError.self) {
            _ = try CounterfactualEvaluation.estimate(logs, examination: [1.0], k: 2) { $0.shown }
        }
        #expect(throws: SearchError.self) {
            _ = try CounterfactualEvaluation.estimate(
                [LoggedList(shown: ["a"], clicked: ["z"])], examination: examination, k: 2) { $0.shown }
        }
        // One click at logged rank 2 (propensity 0.5), moved to rank 1: λ(1) / 0.5 = 2.
        let moved = try CounterfactualEvaluation.estimate(logs, examination: examination, k: 2) { _ in ["b", "a"] }
        #expect(moved.ips == 2 && moved.snips == 1 && moved.naive == 1 && moved.clicks == 1)
    }
}
