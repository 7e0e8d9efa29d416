import Foundation
import SearchCore

/// A seeded simulation of people browsing a catalogue: the logs that
/// rankers are trained and judged on, with the ground truth real logs lack.
///
/// Items sit in clusters of an embedding space and carry a hidden quality.
/// Each user likes a few clusters. A session is a query near one of the
/// user's clusters (sometimes anywhere); retrieval returns the items nearest
/// the query; the user scans the shown list top-down and examines position p
/// (0-based) with probability 1 / (1 + p)^η (position bias, as in the
/// cascade/position-based click models of Craswell et al. 2008); an examined
/// item is clicked with probability σ(a·cos(taste, item) + quality + b),
/// a click becomes a save with probability σ(2·cos + quality − 1), and an
/// examined, unclicked item is hidden with probability σ(−4·cos − quality − 3).
///
/// Everything is a pure function of the seed and the session's index.
///
/// ```swift
/// let sim = EngagementSimulator(configuration: .init(seed: 7))
/// let session = sim.session(0)
/// store.record(session.events)
/// ```
public struct EngagementSimulator: Sendable {
    /// The simulation's knobs.
    public struct Configuration: Sendable, Hashable {
        /// Items in the catalogue. Default 2,000.
        public var itemCount = 2000
        /// Clusters the items fall into. Default 25.
        public var clusterCount = 25
        /// Embedding dimension. Default 32.
        public var dimension = 32
        /// Distinct users. Default 300.
        public var userCount = 300
        /// Clusters each user likes. Default 2.
        public var clustersPerUser = 2
        /// Candidates retrieval returns per session. Default 100.
        public var candidatesPerSession = 100
        /// Of those, how many are shown (and can be examined). Default 30.
        public var shownPerSession = 30
        /// η of the examination probability 1 / (1 + p)^η. Default 0.9.
        public var positionBiasExponent = 0.9
        /// a: how much taste matters to a click. Default 4.
        public var tasteWeight = 4.0
        /// b: the click logit's offset. Default −3.
        public var clickBias = -3.0
        /// Standard deviation of the hidden item quality. Default 0.8.
        public var qualitySpread = 0.8
        /// The first session's time. Default 2027-01-01.
        public var start = Date(timeIntervalSince1970: 1_798_761_600)
        /// Seconds between sessions. Default 60.
        public var sessionSpacing = 60.0
        /// The seed.
        public var seed: UInt64 = 1

        /// The defaults, with a seed.
        public init(seed: UInt64 = 1) { self.seed = seed }
    }

    /// The configuration.
    public let configuration: Configuration
    /// Item embeddings (ids 0..<itemCount).
    public let items: EmbeddingTable
    /// Each item's hidden quality, by id.
    public let quality: [Double]
    /// Each user's hidden taste, unit length, by user number.
    public let tastes: [[Float]]
    private let centers: [[Float]]
    private let userClusters: [[Int]]

    /// Builds the catalogue and the users from the seed.
    public init(configuration: Configuration) {
        precondition(configuration.itemCount > 0 && configuration.clusterCount > 0 && configuration.userCount > 0
            && configuration.dimension > 0 && configuration.candidatesPerSession > 0,
            "simulator sizes must be positive")
        self.configuration = configuration
        var rng = SeededGenerator(seed: configuration.seed)
        let d = configuration.dimension
        func unit(_ v: [Double]) -> [Float] {
            let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return v.map { Float($0 / n) }
        }
        centers = (0..<configuration.clusterCount).map { _ in unit((0..<d).map { _ in rng.normal() }) }
        var table = EmbeddingTable(dimension: d)
        var quality: [Double] = []
        for i in 0..<configuration.itemCount {
            let c = centers[Int(rng.next() % UInt64(configuration.clusterCount))]
            let v = unit((0..<d).map { Double(c[$0]) + 0.7 * rng.normal() / Double(d).squareRoot() })
            // Unit, finite and non-zero by construction.
            try? table.set(VectorID(UInt64(i)), v)
            quality.append(configuration.qualitySpread * rng.normal())
        }
        items = table
        self.quality = quality
        var tastes: [[Float]] = []
        var userClusters: [[Int]] = []
        for _ in 0..<configuration.userCount {
            let liked = (0..<configuration.clustersPerUser).map { _ in Int(rng.next() % UInt64(configuration.clusterCount)) }
            var v = [Double](repeating: 0, count: d)
            for c in liked { for j in 0..<d { v[j] += Double(centers[c][j]) } }
            for j in 0..<d { v[j] += 0.3 * rng.normal() / Double(d).squareRoot() }
            tastes.append(unit(v))
            userClusters.append(liked)
        }
        self.tastes = tastes
        self.userClusters = userClusters
    }

    /// The user id of user number `n`.
    public static func user(_ n: Int) -> UserID { UserID(UInt64(n)) }

    /// cos(user's taste, item), the taste part of the click model.
    public func affinity(user n: Int, item: VectorID) -> Double {
        let row = items.row(of: item)!
        var s = 0.0
        for j in 0..<items.dimension { s += Double(tastes[n][j]) * Double(items.values[row * items.dimension + j]) }
        return s
    }

    /// P(click | examined) for a user and an item.
    public func clickProbability(user n: Int, item: VectorID) -> Double {
        sigmoid(configuration.tasteWeight * affinity(user: n, item: item) + quality[Int(item.rawValue)] + configuration.clickBias)
    }

    /// Session number `index`: its user, query, candidates in retrieval order,
    /// the events logged when they are shown in that order, and ground truth.
    public func session(_ index: Int) -> SimulatedSession {
        var rng = SeededGenerator(seed: configuration.seed &+ 0x5EED_0000 &+ UInt64(index) &* 0x9E37_79B9)
        let c = configuration
        let d = c.dimension
        let userNumber = Int(rng.next() % UInt64(c.userCount))
        let cluster = rng.uniform() < 0.8
            ? userClusters[userNumber][Int(rng.next() % UInt64(userClusters[userNumber].count))]
            : Int(rng.next() % UInt64(c.clusterCount))
        var q = (0..<d).map { Double(centers[cluster][$0]) + 0.5 * rng.normal() / Double(d).squareRoot() }
        let norm = q.reduce(0) { $0 + $1 * $1 }.squareRoot()
        q = q.map { $0 / norm }
        let query = q.map { Float($0) }
        // Retrieval: exact nearest items by cosine (rows are unit length).
        var scored: [(VectorID, Double)] = []
        scored.reserveCapacity(c.itemCount)
        for (row, id) in items.ids.enumerated() {
            var s = 0.0
            for j in 0..<d { s += q[j] * Double(items.values[row * d + j]) }
            scored.append((id, s))
        }
        scored.sort { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
        let candidates = scored.prefix(c.candidatesPerSession)
        let time = c.start.addingTimeInterval(Double(index) * c.sessionSpacing)
        let user = Self.user(userNumber)
        var events: [EngagementEvent] = []
        var probabilities: [Double] = []
        var relevance: [Double] = []
        for (position, (id, _)) in candidates.enumerated() {
            let a = affinity(user: userNumber, item: id)
            let qual = quality[Int(id.rawValue)]
            let pClick = sigmoid(c.tasteWeight * a + qual + c.clickBias)
            let pSave = sigmoid(2 * a + qual - 1)
            let pHide = sigmoid(-4 * a - qual - 3)
            probabilities.append(pClick)
            // Ground truth, free of position: would they engage if they looked?
            let wouldClick = rng.uniform() < pClick
            let wouldSave = wouldClick && rng.uniform() < pSave
            relevance.append(wouldSave ? 2 : (wouldClick ? 1 : 0))
            // The log: only shown positions, examined with position bias.
            guard position < c.shownPerSession else { continue }
            let examined = rng.uniform() < 1 / pow(1 + Double(position), c.positionBiasExponent)
            guard examined else { continue }
            events.append(EngagementEvent(item: id, user: user, kind: .impression, time: time))
            if rng.uniform() < pClick {
                events.append(EngagementEvent(item: id, user: user, kind: .click, time: time))
                if rng.uniform() < pSave { events.append(EngagementEvent(item: id, user: user, kind: .save, time: time)) }
                if rng.uniform() < 0.1 * pSave {
                    events.append(EngagementEvent(item: id, user: user, kind: .purchase, time: time))
                }
            } else if rng.uniform() < pHide {
                events.append(EngagementEvent(item: id, user: user, kind: .hide, time: time))
            }
        }
        return SimulatedSession(
            index: index, userNumber: userNumber, user: user, time: time, query: query,
            candidates: candidates.map(\.0), retrievalScores: candidates.map(\.1),
            clickProbability: probabilities, relevance: relevance, events: events)
    }

    private func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
}

/// One simulated session.
public struct SimulatedSession: Sendable {
    /// The session's number.
    public var index: Int
    /// The user's number in the simulator.
    public var userNumber: Int
    /// The user.
    public var user: UserID
    /// When it happened.
    public var time: Date
    /// The query embedding, unit length.
    public var query: [Float]
    /// Retrieved candidates, best retrieval score first.
    public var candidates: [VectorID]
    /// Their retrieval scores (cosine to the query).
    public var retrievalScores: [Double]
    /// True P(click | examined) of each candidate.
    public var clickProbability: [Double]
    /// Ground truth per candidate, free of position bias: 2 would save, 1 would click, 0 neither.
    public var relevance: [Double]
    /// What the log records when the candidates are shown in retrieval order.
    public var events: [EngagementEvent]
}
