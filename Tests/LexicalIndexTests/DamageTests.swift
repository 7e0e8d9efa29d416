import Foundation
import SearchCore
import Testing

@testable import LexicalIndex

/// Damaged segments, logs and manifests: a typed error or a documented
/// repair, never a crash and never a silently wrong index.
@Suite("Keyword index damage")
struct DamageTests {
    static let configuration = LexicalIndex.Configuration(fields: [.caption, .fileName])

    /// A directory with one segment (ids 0..<20) and a log holding adds of 100..<105 and a removal of 3.
    static func fixture() throws -> (directory: String, segment: String, log: String) {
        let directory = temporaryDirectory("damage")
        let index = try LexicalIndex(directory: directory, configuration: configuration)
        try index.add((0..<20).map { (VectorID(UInt64($0)), ["caption": "brass table number\($0)", "fileName": "IMG_\($0).jpg"]) })
        try index.flush()
        for id in 100..<105 { try index.add(id: VectorID(UInt64(id)), fields: ["caption": "oak chair \(id)"]) }
        #expect(try index.remove(id: 3))
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        let segment = directory + "/" + names.first { $0.hasSuffix(".lex") }!
        let log = directory + "/" + names.first { $0.hasSuffix(".lxl") }!
        return (directory, segment, log)
    }

    static func read(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
    static func write(_ bytes: [UInt8], _ path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

    @Test("every flipped byte of a segment is refused as corrupt data")
    func segmentFlips() throws {
        let (directory, segment, _) = try Self.fixture()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let original = try Self.read(segment)
        // Every byte of the header and a stride through the rest.
        let offsets = Array(0..<80) + Array(stride(from: 80, to: original.count, by: 7)) + [original.count - 1]
        for offset in offsets {
            var damaged = original
            damaged[offset] ^= 0x5A
            try Self.write(damaged, segment)
            #expect(throws: SearchError.self, "byte \(offset)") {
                try LexicalIndex(directory: directory, configuration: Self.configuration)
            }
        }
        try Self.write(original, segment)
        let index = try LexicalIndex(directory: directory, configuration: Self.configuration)
        #expect(index.count == 24)
    }

    @Test("a log cut anywhere opens with a prefix of its records (a torn tail), never more, never an error")
    func logTruncation() throws {
        let (directory, _, log) = try Self.fixture()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let original = try Self.read(log)
        var previous = -1
        // The header is written whole (atomically) when a log is made, so a crash never cuts into it.
        for length in stride(from: original.count, through: LexicalLog.headerSize, by: -3) {
            try Self.write(Array(original[0..<length]), log)
            let index = try LexicalIndex(directory: directory, configuration: Self.configuration)
            let replayed = index.recovery.recordsReplayed
            #expect(replayed <= 6)
            if previous >= 0 { #expect(replayed <= previous) }
            previous = replayed
            // The segment's 20 documents, the replayed adds, minus the removal if replayed.
            #expect(index.count == 20 + min(replayed, 5) - (replayed == 6 ? 1 : 0))
        }
        try Self.write(Array(original[0..<10]), log)
        #expect(throws: SearchError.self) { try LexicalIndex(directory: directory, configuration: Self.configuration) }
    }

    @Test("a flipped byte inside an acknowledged log record is damage: refused, or dropped with what follows when asked")
    func logFlips() throws {
        let (directory, _, log) = try Self.fixture()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let original = try Self.read(log)
        var damaged = original
        damaged[LexicalLog.headerSize + 12 + 3] ^= 0x01  // the first record's payload
        try Self.write(damaged, log)
        #expect(throws: SearchError.self) { try LexicalIndex(directory: directory, configuration: Self.configuration) }
        let index = try LexicalIndex(
            directory: directory, configuration: Self.configuration, options: .init(dropDamagedLogRecords: true))
        #expect(index.recovery.recordsReplayed == 0)
        #expect(index.recovery.damagedAt == LexicalLog.headerSize)
        #expect(index.count == 20)
        #expect(FileManager.default.fileExists(atPath: log + ".damaged-\(LexicalLog.headerSize)"))
    }

    @Test("a flipped manifest byte is refused")
    func manifestFlips() throws {
        let (directory, _, _) = try Self.fixture()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/MANIFEST"
        let original = try Self.read(path)
        for offset in stride(from: 0, to: original.count, by: 5) {
            var damaged = original
            damaged[offset] ^= 0x10
            try Self.write(damaged, path)
            #expect(throws: SearchError.self, "byte \(offset)") {
                try LexicalIndex(directory: directory, configuration: Self.configuration)
            }
        }
    }

    @Test("a hostile segment with a valid checksum never crashes a search")
    func hostileSegment() throws {
        let (directory, segment, _) = try Self.fixture()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let original = try Self.read(segment)
        var rng = SplitMix64(seed: 5)
        for _ in 0..<300 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                bytes[Int.random(in: 64..<(bytes.count - 4), using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            exerciseSegment(bytes, reseal: true)
        }
    }
}

/// Runs every search path over `bytes` as a segment, with the checksum ignored when `reseal`.
func exerciseSegment(_ bytes: [UInt8], reseal: Bool) {
    _ = try? LexicalIndex.checkSegment(bytes, verifyingChecksum: !reseal)
}
