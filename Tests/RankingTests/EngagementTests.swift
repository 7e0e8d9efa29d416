import Foundation
import Ranking
import SearchCore
import Testing
import Tensor

@Suite("Engagement: decay, smoothing, ingestion, snapshots")
struct EngagementTests {
    static let hour = 3600.0
    static func at(_ seconds: Double) -> Date { Date(timeIntervalSince1970: 1_800_000_000 + seconds) }

    @Test func countsHalveEveryHalfLife() {
        let store = EngagementStore(configuration: .init(halfLife: Self.hour))
        store.record(EngagementEvent(item: 1, kind: .click, time: Self.at(0)))
        // Exact in binary: 2^-1, 2^-2, 2^-10.
        #expect(store.counts(item: 1, at: Self.at(0))[.click] == 1)
        #expect(store.counts(item: 1, at: Self.at(Self.hour))[.click] == 0.5)
        #expect(store.counts(item: 1, at: Self.at(2 * Self.hour))[.click] == 0.25)
        #expect(store.counts(item: 1, at: Self.at(10 * Self.hour))[.click] == 1.0 / 1024)
        #expect(store.counts(item: 1, at: Self.at(Self.hour))[.save] == 0)
        #expect(store.counts(item: 2, at: Self.at(Self.hour)).total == 0)
    }

    @Test func outOfOrderEventsCountTheSame() {
        let times = [0.0, 5000, 1200, 9000, 300]
        let store = EngagementStore(configuration: .init(halfLife: Self.hour))
        for t in times { store.record(EngagementEvent(item: 7, kind: .impression, time: Self.at(t))) }
        let now = 12_000.0
        let expected = times.map { exp2(-(now - $0) / Self.hour) }.reduce(0, +)
        let got = store.counts(item: 7, at: Self.at(now))[.impression]
        // Each path rescales a handful of times: a few ulps of relative error.
        #expect(abs(got - expected) <= 1e-14 * expected)
    }

    @Test func perUserCountsAreSeparate() {
        let store = EngagementStore()
        let ana = UserID("ana"), bo = UserID("bo")
        store.record([
            EngagementEvent(item: 1, user: ana, kind: .save, time: Self.at(0)),
            EngagementEvent(item: 1, user: bo, kind: .hide, time: Self.at(0)),
            EngagementEvent(item: 1, kind: .impression, time: Self.at(0)),
        ])
        #expect(store.counts(user: ana, item: 1, at: Self.at(0))[.save] == 1)
        #expect(store.counts(user: ana, item: 1, at: Self.at(0))[.hide] == 0)
        #expect(store.counts(user: bo, item: 1, at: Self.at(0))[.hide] == 1)
        #expect(store.counts(item: 1, at: Self.at(0)).total == 3)
        #expect(UserID("ana") == ana && UserID("ana") != bo)
    }

    @Test func methodOfMomentsRecoversTheBetaByHand() {
        // Rates 0.1, 0.2, 0.3 over 1000 trials: m = 0.2, population v = 0.02 / 3,
        // α + β = m(1 − m) / v − 1 = 23, α = 4.6, β = 18.4.
        let prior = BetaPrior.methodOfMoments([(100.0, 1000.0), (200, 1000), (300, 1000)].map { (successes: $0.0, trials: $0.1) })
        #expect(abs(prior.alpha - 4.6) < 1e-9)
        #expect(abs(prior.beta - 18.4) < 1e-9)
        #expect(abs(prior.smoothedRate(successes: 0, trials: 0) - 0.2) < 1e-12)
        #expect(abs(prior.smoothedRate(successes: 3, trials: 10) - (3 + 4.6) / (10 + 23)) < 1e-12)
    }

    @Test func degenerateRatesFallBack() {
        let same = BetaPrior.methodOfMoments([(successes: 5.0, trials: 10.0), (successes: 5.0, trials: 10.0)],
                                             fallback: BetaPrior(alpha: 1, beta: 3))
        #expect(abs(same.mean - 0.5) < 1e-12 && abs(same.alpha + same.beta - 4) < 1e-12)
        let few = BetaPrior.methodOfMoments([(successes: 1.0, trials: 2.0)], fallback: BetaPrior(alpha: 1, beta: 3))
        #expect(few == BetaPrior(alpha: 1, beta: 3))
    }

    @Test func storeFitsPriorsAndSmoothsRates() {
        let store = EngagementStore(configuration: .init(halfLife: 1e9))
        var events: [EngagementEvent] = []
        for (item, clicks) in [(VectorID(1), 10), (2, 20), (3, 30)] {
            for i in 0..<100 {
                events.append(EngagementEvent(item: item, kind: .impression, time: Self.at(0)))
                if i < clicks { events.append(EngagementEvent(item: item, kind: .click, time: Self.at(0))) }
            }
        }
        store.record(events)
        let priors = store.refitPriors(minimumImpressions: 50)
        #expect(abs(priors.click.alpha - 4.6) < 1e-6 && abs(priors.click.beta - 18.4) < 1e-6)
        let unseen = store.rates(item: 99, at: Self.at(0))
        #expect(abs(unseen.click - 0.2) < 1e-9)
        let one = store.rates(item: 1, at: Self.at(0))
        #expect(abs(one.click - (10 + 4.6) / (100 + 23)) < 1e-9)
    }

    @Test func concurrentIngestionLosesNothing() async {
        let store = EngagementStore(configuration: .init(halfLife: 1e12))
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for i in 0..<2000 {
                        store.record(EngagementEvent(item: VectorID(UInt64(i % 10)), user: UserID(UInt64(worker)),
                                                     kind: .impression, time: Self.at(0)))
                    }
                }
            }
        }
        var total = 0.0
        for item in 0..<10 { total += store.counts(item: VectorID(UInt64(item)), at: Self.at(0))[.impression] }
        #expect(total == 16_000)
        #expect(store.statistics.pairs == 80)
    }

    @Test func memoryIsBoundedAndTheTailGoesFirst() {
        let store = EngagementStore(configuration: .init(halfLife: Self.hour, maxItems: 100, maxPairs: 50))
        // Item 0 is popular; items 1... appear once each.
        for _ in 0..<50 { store.record(EngagementEvent(item: 0, kind: .click, time: Self.at(0))) }
        for i in 1...1000 {
            store.record(EngagementEvent(item: VectorID(UInt64(i)), user: UserID(UInt64(i)), kind: .impression, time: Self.at(Double(i))))
        }
        let stats = store.statistics
        #expect(stats.items <= 100 && stats.pairs <= 50)
        #expect(stats.evictedItems > 0 && stats.evictedPairs > 0)
        #expect(store.counts(item: 0, at: Self.at(1000))[.click] > 0)
        #expect(store.counts(item: 1, at: Self.at(1000)).total == 0)
    }

    @Test func crc32cCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        // 32 zero bytes: the iSCSI test vector (RFC 3720, B.4).
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
    }

    static func populated() -> EngagementStore {
        let store = EngagementStore(configuration: .init(halfLife: Self.hour))
        for i in 0..<200 {
            store.record(EngagementEvent(item: VectorID(UInt64(i % 37)), user: UserID(UInt64(i % 5)),
                                         kind: EngagementKind.allCases[i % 5], time: Self.at(Double(i * 17))))
        }
        store.refitPriors(minimumImpressions: 1)
        return store
    }

    static func temporaryPath(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ranking-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    @Test func snapshotRoundTrips() throws {
        let store = Self.populated()
        let path = Self.temporaryPath("engagement.snap")
        try store.write(to: path)
        let loaded = try EngagementStore(snapshotAt: path)
        #expect(loaded.snapshotBytes() == store.snapshotBytes())
        #expect(loaded.configuration.halfLife == Self.hour)
        #expect(loaded.priors == store.priors)
        for item in 0..<37 {
            let id = VectorID(UInt64(item))
            #expect(loaded.counts(item: id, at: Self.at(5000)) == store.counts(item: id, at: Self.at(5000)))
            #expect(loaded.counts(user: UserID(2), item: id, at: Self.at(5000)) == store.counts(user: UserID(2), item: id, at: Self.at(5000)))
        }
        // Overwriting is atomic and leaves no temporary files behind.
        try loaded.write(to: path)
        let dir = (path as NSString).deletingLastPathComponent
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["engagement.snap"])
    }

    @Test func snapshotsWhileIngestingAreConsistent() async throws {
        let store = EngagementStore(configuration: .init(halfLife: 1e12))
        let path = Self.temporaryPath("live.snap")
        // A torn earlier attempt leaves a temporary file; readers never look at it.
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path + ".tmp-1-2"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for i in 0..<20_000 {
                    store.record(EngagementEvent(item: VectorID(UInt64(i % 50)), kind: .impression, time: Self.at(0)))
                }
            }
            group.addTask {
                for _ in 0..<20 { try store.write(to: path) }
            }
            try await group.waitForAll()
        }
        try store.write(to: path)
        let loaded = try EngagementStore(snapshotAt: path)
        var total = 0.0
        for item in 0..<50 { total += loaded.counts(item: VectorID(UInt64(item)), at: Self.at(0))[.impression] }
        #expect(total == 20_000)
    }

    @Test func corruptSnapshotsAreTypedErrors() throws {
        let good = Self.populated().snapshotBytes()
        func code(_ bytes: [UInt8]) -> SearchError.Code? {
            do {
                _ = try EngagementStore(snapshot: bytes)
                return nil
            } catch { return error.code }
        }
        var flipped = good
        flipped[good.count / 2] ^= 0x10
        #expect(code(flipped) == .corruptData)
        #expect(code(Array(good.prefix(good.count - 1))) == .corruptData)
        #expect(code(Array(good.prefix(50))) == .corruptData)
        #expect(code([]) == .corruptData)
        // A newer version with a valid checksum is unsupported, not corrupt.
        var newer = Array(good.prefix(good.count - 8))
        newer[8] = 2
        let crc = newer.withUnsafeBytes { CRC32C.checksum($0) }
        withUnsafeBytes(of: crc.littleEndian) { newer.append(contentsOf: $0) }
        newer += Array("MMSE".utf8)
        #expect(code(newer) == .unsupportedFormat)
        #expect(code(good) == nil)

        let path = Self.temporaryPath("torn.snap")
        try Data(flipped).write(to: URL(fileURLWithPath: path))
        do {
            _ = try EngagementStore(snapshotAt: path)
            Issue.record("a corrupt snapshot loaded")
        } catch {
            #expect(error.code == .corruptData)
            #expect(error.message.contains("checksum"))
        }
        #expect(throws: SearchError.self) { try EngagementStore(snapshotAt: path + ".missing") }
    }
}
