import Foundation
import Ranking
import SearchCore
import Testing

@Suite("Two-tower user vectors")
struct TwoTowerTests {
    static let now = Date(timeIntervalSince1970: 1_000_000)

    @Test func poolingWeighsRecencyAndHidesPushAway() throws {
        var table = EmbeddingTable(dimension: 3)
        try table.set(1, [1, 0, 0])
        try table.set(2, [0, 1, 0])
        try table.set(3, [0, 0, 1])
        let pooling = UserVectorPooling(halfLife: 3600)
        let history = [
            EngagementEvent(item: 1, kind: .click, time: Self.now),  // weight 1, fresh
            EngagementEvent(item: 2, kind: .click, time: Self.now.addingTimeInterval(-3600)),  // weight 1, one half-life old
            EngagementEvent(item: 3, kind: .hide, time: Self.now),  // weight −2
            EngagementEvent(item: 3, kind: .impression, time: Self.now),  // weight 0
            EngagementEvent(item: 9, kind: .save, time: Self.now),  // no embedding
        ]
        let u = try #require(pooling.userVector(history: history, items: table, now: Self.now))
        // Direction (1, 0.5, −2), normalised.
        let n: Float = (5.25 as Float).squareRoot()
        let expected: [Float] = [1 / n, 0.5 / n, -2 / n]
        for j in 0..<3 { #expect(abs(u[j] - expected[j]) < 1e-6) }
        #expect(pooling.userVector(history: [], items: table, now: Self.now) == nil)
    }

    @Test func retrieverGoesThroughAnyVectorIndex() throws {
        let sim = EngagementSimulator(configuration: .init(seed: 3))
        let index = BruteForceIndex(dimension: sim.items.dimension)
        try index.add(sim.items.values, ids: sim.items.ids)
        let retriever = TwoTowerRetriever(index: index)
        let user = sim.tastes[0]
        let hits = try retriever.retrieve(for: user, k: 10)
        // The oracle: every item's dot with the user vector.
        var scored: [(VectorID, Float)] = []
        for id in sim.items.ids {
            let dot: Float = user.withUnsafeBufferPointer { sim.items.dot($0, id)! }
            scored.append((id, dot))
        }
        scored.sort { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
        let expected: [VectorID] = scored.prefix(10).map { $0.0 }
        #expect(hits.map(\.id) == Array(expected))
        var set = CandidateSet()
        try retriever.addCandidates(for: user, k: 10, filter: DenyList([expected[0]]), to: &set)
        #expect(set.count == 10 && set.sourceScores(of: expected[0]).isEmpty)
        #expect(set.sourceScores(of: expected[1])["two-tower"]?.rank == 1)
    }

    @Test func learnedTowerTrainsWithInBatchSoftmax() throws {
        let world = SimulatedWorld.shared
        func examples(_ sessions: Range<Int>) -> [(input: [Float], positive: VectorID)] {
            var out: [(input: [Float], positive: VectorID)] = []
            for i in sessions {
                let s = world.simulator.session(i)
                guard let pooled = world.pooling.userVector(history: world.histories[s.userNumber] ?? [],
                                                            items: world.simulator.items, now: s.time) else { continue }
                for e in s.events where e.kind == .click { out.append((pooled, e.item)) }
            }
            return out
        }
        let training = examples(SimulatedWorld.trainingSessions)
        let heldOut = examples(SimulatedWorld.heldOutSessions)
        #expect(training.count > 500 && heldOut.count > 100)
        var options = LinearUserTower.TrainingOptions()
        options.epochs = 4
        let (tower, losses) = try LinearUserTower.train(examples: training, items: world.simulator.items, options: options)
        #expect(losses.last! < losses.first!)
        // Held out: how often the clicked item is among the 50 nearest of the user vector.
        let index = BruteForceIndex(dimension: world.simulator.items.dimension)
        try index.add(world.simulator.items.values, ids: world.simulator.items.ids)
        let retriever = TwoTowerRetriever(index: index)
        var pooledHits = 0, towerHits = 0
        for e in heldOut {
            if try retriever.retrieve(for: e.input, k: 50).contains(where: { $0.id == e.positive }) { pooledHits += 1 }
            if try retriever.retrieve(for: tower.embed(e.input), k: 50).contains(where: { $0.id == e.positive }) { towerHits += 1 }
        }
        let chance = 50.0 / Double(world.simulator.items.count)
        let pooledRate = Double(pooledHits) / Double(heldOut.count)
        let towerRate = Double(towerHits) / Double(heldOut.count)
        print(String(format: "two-tower held-out hit rate@50: pooling %.4f, learned tower %.4f (chance %.4f); epoch loss %.4f → %.4f",
                     pooledRate, towerRate, chance, losses.first!, losses.last!))
        // In this simulator taste lives in the item space already, so pooling
        // is near the best a linear map can do; the tower must still retrieve
        // far above chance after training on the in-batch objective.
        #expect(towerRate > 3 * chance)
        // On the objective it was trained for, the tower beats its starting
        // point (plain pooling) on held-out sessions.
        let identity = LinearUserTower(inputDimension: tower.inputDimension, outputDimension: tower.outputDimension)
        let heldOutIdentity = try identity.inBatchLoss(examples: heldOut, items: world.simulator.items)
        let heldOutTrained = try tower.inBatchLoss(examples: heldOut, items: world.simulator.items)
        print(String(format: "two-tower held-out in-batch loss: pooling %.4f, learned tower %.4f (chance %.4f)",
                     heldOutIdentity, heldOutTrained, log(128.0)))
        #expect(heldOutTrained < heldOutIdentity)
        #expect(throws: SearchError.self) { try tower.embed([1, 2]) }
    }
}
