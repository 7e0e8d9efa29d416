import Evaluation
import Foundation
import Ranking
import SearchCore
import Testing

/// The simulated world the learned-ranker tests share: a store filled from
/// history sessions, then training and held-out sessions after it.
struct SimulatedWorld: Sendable {
    /// Built once and shared: the suites read it, never write it.
    static let shared = SimulatedWorld()

    let simulator: EngagementSimulator
    let store: EngagementStore
    let pipeline: FeaturePipeline
    let histories: [Int: [EngagementEvent]]
    let pooling = UserVectorPooling(halfLife: 30 * 86_400)

    static let historySessions = 0..<2000
    static let trainingSessions = 2000..<3000
    static let heldOutSessions = 3000..<3400

    init(seed: UInt64 = 7) {
        simulator = EngagementSimulator(configuration: .init(seed: seed))
        store = EngagementStore(configuration: .init(halfLife: 30 * 86_400))
        var histories: [Int: [EngagementEvent]] = [:]
        for i in Self.historySessions {
            let s = simulator.session(i)
            store.record(s.events)
            histories[s.userNumber, default: []].append(contentsOf: s.events)
        }
        store.refitPriors(minimumImpressions: 5)
        self.histories = histories
        pipeline = FeaturePipeline(store: store, items: simulator.items)
    }

    func context(_ s: SimulatedSession) -> FeatureContext {
        FeatureContext(
            user: s.user,
            userVector: pooling.userVector(history: histories[s.userNumber] ?? [], items: simulator.items, now: s.time),
            queryVector: s.query, now: s.time)
    }

    static func retrievalOrder(_ s: SimulatedSession) -> [RankedCandidate] {
        zip(s.candidates, s.retrievalScores).map { RankedCandidate(id: $0, score: $1) }
    }
}

@Suite("Learned rankers on simulated sessions")
struct LearnedRankerTests {
    @Test func simulatorIsDeterministicAndPositionBiased() {
        let a = EngagementSimulator(configuration: .init(seed: 3))
        let b = EngagementSimulator(configuration: .init(seed: 3))
        #expect(a.session(5).events == b.session(5).events)
        #expect(a.session(5).candidates == b.session(5).candidates)
        #expect(a.session(5).events != a.session(6).events)
        // Impressions fall with position: the top five are examined far more than 20...24.
        var top = 0, low = 0
        for i in 0..<300 {
            let s = a.session(i)
            let shown = Set(s.events.filter { $0.kind == .impression }.map(\.item))
            top += s.candidates[0..<5].filter { shown.contains($0) }.count
            low += s.candidates[20..<25].filter { shown.contains($0) }.count
        }
        #expect(top > 2 * low)
    }

    @Test func logisticRegressionTrainsToConvergenceOnSeparableSignal() throws {
        // y = 1 iff 2·x0 − x1 > 0.5 (with label noise); L-BFGS must converge and recover the direction.
        var rng = SeededGenerator(seed: 11)
        var rows: [Double] = []
        var labels: [Double] = []
        for _ in 0..<4000 {
            let x0 = rng.normal(), x1 = rng.normal(), x2 = rng.normal()
            rows += [x0, x1, x2]
            let logit = 3 * (2 * x0 - x1 - 0.5)
            labels.append(rng.uniform() < 1 / (1 + exp(-logit)) ? 1 : 0)
        }
        var options = LogisticRegression.TrainingOptions()
        options.l2 = 1e-4
        let (model, report) = try LogisticRegression.train(rows: rows, labels: labels, featureCount: 3, options: options)
        #expect(report.converged)
        #expect(report.iterations < options.maxIterations)
        let w = zip(model.weights, model.scales).map { $0 / $1 }
        // Effective weights ≈ (6, −3, 0): check ratios, which are scale-free.
        #expect(abs(w[1] / w[0] + 0.5) < 0.08)
        #expect(abs(w[2] / w[0]) < 0.05)
        // Gradient at the optimum: a tiny perturbation cannot lower the objective much.
        #expect(report.gradientNorm < 1e-4)
    }

    @Test func trainingRejectsBadInput() {
        #expect(throws: SearchError.self) { try LogisticRegression.train(rows: [1, 2], labels: [1], featureCount: 3) }
        #expect(throws: SearchError.self) { try LogisticRegression.train(rows: [1, 2], labels: [2], featureCount: 2) }
        #expect(throws: SearchError.self) { try LogisticRegression.train(rows: [.infinity], labels: [1], featureCount: 1) }
    }

    @Test func gbdtRanksThroughTheSamePipeline() throws {
        // The categorical parity fixture happens to read 12 features, as many as the pipeline writes.
        let (_, gbdt) = try LightGBMFixture.load("gbdt_binary_nan_categorical")
        let world = SimulatedWorld.shared
        try #require(gbdt.featureCount == world.pipeline.featureCount)
        let ranker = LearnedRanker(model: gbdt, features: world.pipeline, name: "gbdt")
        let s = world.simulator.session(SimulatedWorld.heldOutSessions.lowerBound)
        let candidates = SimulatedWorld.retrievalOrder(s)
        let ranked = try ranker.rerank(candidates, features: world.context(s))
        let expected = try gbdt.rawScores(world.pipeline.rows(for: candidates, context: world.context(s)))
        #expect(ranked.count == candidates.count)
        #expect(ranked.map(\.score) == expected.sorted(by: >))
        #expect(ranked.allSatisfy { $0.explanation["gbdt"] == $0.score })
        #expect(Set(ranked.map(\.id)) == Set(candidates.map(\.id)))
    }

    @Test func learnedRankerBeatsRetrievalOrderOnHeldOutSessions() throws {
        let world = SimulatedWorld.shared
        // Training rows: what was examined in the training sessions, label = clicked.
        var rows: [Double] = []
        var labels: [Double] = []
        for i in SimulatedWorld.trainingSessions {
            let s = world.simulator.session(i)
            let candidates = SimulatedWorld.retrievalOrder(s)
            let features = world.pipeline.rows(for: candidates, context: world.context(s))
            let examined = Set(s.events.filter { $0.kind == .impression }.map(\.item))
            let clicked = Set(s.events.filter { $0.kind == .click }.map(\.item))
            let d = world.pipeline.featureCount
            for (k, c) in candidates.enumerated() where examined.contains(c.id) {
                rows += features[(k * d)..<((k + 1) * d)]
                labels.append(clicked.contains(c.id) ? 1 : 0)
            }
        }
        let (model, report) = try LogisticRegression.train(rows: rows, labels: labels, featureCount: world.pipeline.featureCount)
        #expect(report.converged)
        let ranker = LearnedRanker(model: model, features: world.pipeline)

        var ndcgRetrieval = 0.0, ndcgLearned = 0.0
        var aucLabels: [Bool] = [], retrievalScores: [Double] = [], learnedScores: [Double] = []
        for i in SimulatedWorld.heldOutSessions {
            let s = world.simulator.session(i)
            let candidates = SimulatedWorld.retrievalOrder(s)
            let ranked = try ranker.rerank(candidates, features: world.context(s))
            let learned = Dictionary(uniqueKeysWithValues: ranked.map { ($0.id, $0.score) })
            let learnedInOrder = s.candidates.map { learned[$0]! }
            ndcgRetrieval += try NDCG.atK(relevance: s.relevance, scores: s.retrievalScores, k: 10)
            ndcgLearned += try NDCG.atK(relevance: s.relevance, scores: learnedInOrder, k: 10)
            aucLabels += s.relevance.map { $0 > 0 }
            retrievalScores += s.retrievalScores
            learnedScores += learnedInOrder
        }
        let sessions = Double(SimulatedWorld.heldOutSessions.count)
        ndcgRetrieval /= sessions
        ndcgLearned /= sessions
        let aucRetrieval = try ROCAUC.of(labels: aucLabels, scores: retrievalScores)
        let aucLearned = try ROCAUC.of(labels: aucLabels, scores: learnedScores)
        print(String(format: "held-out NDCG@10 retrieval %.4f learned %.4f lift %+.4f; AUC retrieval %.4f learned %.4f lift %+.4f (LR: %d iterations)",
                     ndcgRetrieval, ndcgLearned, ndcgLearned - ndcgRetrieval, aucRetrieval, aucLearned, aucLearned - aucRetrieval, report.iterations))
        #expect(ndcgLearned - ndcgRetrieval > 0)
        #expect(aucLearned - aucRetrieval > 0)
    }
}
