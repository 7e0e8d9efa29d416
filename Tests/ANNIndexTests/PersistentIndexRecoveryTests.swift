import Foundation
import SearchCore
import Testing
import _TestSupport

@testable import ANNIndex

/// Damage to a real index directory's write-ahead log, and what opening it does.
@Suite("Persistent index recovery")
struct PersistentIndexRecoveryTests {
    static let d = 4

    /// A directory whose log holds (after a flush) adds of ids 10, 11, 12, 13
    /// (one record each) and a removal of 10, 11, 12 as its last record.
    /// Returns the directory, the log's path and the offset of each record.
    static func damagedFixture() throws -> (dir: String, log: String, records: [Int], bytes: [UInt8]) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mms-recovery-\(UUID().uuidString)").path
        do {
            let index = try PersistentIndex(directory: dir, dimension: d, metric: .squaredL2)
            try index.add([1, 0, 0, 0], id: 1)
            try index.flush()
            for id in 10...13 { try index.add([Float(id), 1, 0, 0], id: VectorID(UInt64(id))) }
            #expect(try index.remove([10, 11, 12]) == 3)
            index.close()
        }
        let name = try FileManager.default.contentsOfDirectory(atPath: dir).first { $0.hasPrefix("wal-") && $0.hasSuffix(".log") }!
        let log = dir + "/" + name
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: log)))
        var offsets: [Int] = []
        var offset = WriteAheadLog.headerSize
        while offset < bytes.count {
            offsets.append(offset)
            let length = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16 | Int(bytes[offset + 3]) << 24
            offset += 12 + length
        }
        #expect(offsets.count == 5)
        return (dir, log, offsets, bytes)
    }

    static func open(_ dir: String, _ policy: RecoveryPolicy = .repairTornTail) throws(SearchError) -> PersistentIndex {
        try PersistentIndex(directory: dir, dimension: d, metric: .squaredL2, recoveryPolicy: policy)
    }

    static func write(_ bytes: [UInt8], _ path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    func expectPresent(_ index: PersistentIndex, _ ids: [UInt64], absent: [UInt64]) {
        for id in ids { #expect(index.contains(VectorID(id)), "id \(id) should be present") }
        for id in absent { #expect(!index.contains(VectorID(id)), "id \(id) should be absent") }
    }

    @Test("a flipped byte in the last complete record (payload or length) is a typed error naming file and offset; .dropDamagedRecords drops and reports it; .strict refuses it",
          arguments: [0, 1, 8, 12, 20])
    func lastRecordDamaged(at position: Int) throws {
        let (dir, log, records, bytes) = try Self.damagedFixture()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var damaged = bytes
        let last = records[4]
        damaged[last + position] ^= 0x04  // 0, 1: the length; 8: the header checksum; 12, 20: the payload
        try Self.write(damaged, log)
        for policy in [RecoveryPolicy.repairTornTail, .strict] {
            do {
                _ = try Self.open(dir, policy)
                Issue.record("opened with \(policy) despite damage at \(last + position)")
            } catch {
                #expect(error.code == .corruptData)
                #expect(error.message.contains(log))
                #expect(error.message.contains("offset \(last)"), "\(error.message)")
                #expect(error.message.contains(".dropDamagedRecords"))
            }
            #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: log))) == damaged, "nothing cut under \(policy)")
        }
        let index = try Self.open(dir, .dropDamagedRecords)
        // The removal of 10, 11, 12 is dropped — and says so.
        expectPresent(index, [1, 10, 11, 12, 13], absent: [])
        #expect(index.recovery.recordsReplayed == 4)
        #expect(index.recovery.bytesKept == last)
        #expect(index.recovery.bytesDropped == bytes.count - last)
        guard case .droppedDamagedRecord(let offset, _, let side) = index.recovery.outcome else {
            Issue.record("\(index.recovery)")
            return
        }
        #expect(offset == last)
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: side))) == Array(damaged[last...]), "the dropped bytes are kept")
        let summary = try String(contentsOfFile: dir + "/" + PersistentIndex.recoverySummaryFileName, encoding: .utf8)
        #expect(summary.contains("DROPPED"))
        index.close()
        // The side file survives reopening; the log is whole again.
        let again = try Self.open(dir, .strict)
        #expect(FileManager.default.fileExists(atPath: side))
        #expect(again.recovery.outcome == .none)
        expectPresent(again, [1, 10, 11, 12, 13], absent: [])
    }

    @Test("a flipped byte in a middle record is an error under the default; .dropDamagedRecords drops it and all after it")
    func middleRecordDamaged() throws {
        let (dir, log, records, bytes) = try Self.damagedFixture()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var damaged = bytes
        damaged[records[2] + 14] ^= 0x80  // the add of id 12
        try Self.write(damaged, log)
        do {
            _ = try Self.open(dir)
            Issue.record("opened despite damage in the middle")
        } catch {
            #expect(error.code == .corruptData)
            #expect(error.message.contains("offset \(records[2])"), "\(error.message)")
        }
        let index = try Self.open(dir, .dropDamagedRecords)
        expectPresent(index, [1, 10, 11], absent: [12, 13])
        #expect(index.recovery.recordsReplayed == 2)
        #expect(index.recovery.bytesDropped == bytes.count - records[2])
    }

    @Test("a log cut inside a record is a repaired torn tail, reported, every earlier record intact; .strict refuses it")
    func truncatedInsideRecord() throws {
        let (dir, log, records, bytes) = try Self.damagedFixture()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for cut in [records[4] + 3, records[4] + 12, bytes.count - 1] {
            try Self.write(Array(bytes.prefix(cut)), log)
            #expect(throws: SearchError.self) { _ = try Self.open(dir, .strict) }
            #expect(try Data(contentsOf: URL(fileURLWithPath: log)).count == cut, ".strict cuts nothing")
            let index = try Self.open(dir)
            #expect(index.recovery.outcome == .tornTail(offset: records[4]))
            #expect(index.recovery.recordsReplayed == 4)
            #expect(index.recovery.bytesDropped == cut - records[4])
            #expect(index.recovery.description.contains("torn tail"))
            expectPresent(index, [1, 10, 11, 12, 13], absent: [])
            index.close()
            #expect(try Data(contentsOf: URL(fileURLWithPath: log)).count == records[4], "the tail was cut")
        }
    }

    @Test("a log cut on a record boundary opens; the report carries the records replayed and bytes kept for cross-checks")
    func truncatedOnBoundary() throws {
        let (dir, log, records, bytes) = try Self.damagedFixture()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.write(Array(bytes.prefix(records[3])), log)
        let index = try Self.open(dir, .strict)
        #expect(index.recovery.outcome == .none)
        #expect(index.recovery.recordsReplayed == 3)
        #expect(index.recovery.bytesKept == records[3])
        #expect(index.recovery.bytesDropped == 0)
        expectPresent(index, [1, 10, 11, 12], absent: [13])
    }

    @Test("a zero-filled tail is torn: repaired by default, refused by .strict")
    func zeroFilledTail() throws {
        let (dir, log, _, bytes) = try Self.damagedFixture()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.write(bytes + [UInt8](repeating: 0, count: 4096), log)
        #expect(throws: SearchError.self) { _ = try Self.open(dir, .strict) }
        let index = try Self.open(dir)
        #expect(index.recovery.outcome == .tornTail(offset: bytes.count))
        #expect(index.recovery.bytesDropped == 4096)
        #expect(index.recovery.recordsReplayed == 5)
        expectPresent(index, [1, 13], absent: [10, 11, 12])
    }

    @Test("after close() every operation throws .invalidArgument; close is idempotent; reopening sees everything")
    func closing() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mms-recovery-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let index = try Self.open(dir)
        try index.add([1, 2, 3, 4], id: 7)
        index.close()
        index.close()
        func expectClosed(_ body: () throws -> Void) {
            do {
                try body()
                Issue.record("an operation on a closed index succeeded")
            } catch let error as SearchError {
                #expect(error.code == .invalidArgument)
                #expect(error.message.contains("closed"))
            } catch {
                Issue.record("untyped error \(error)")
            }
        }
        expectClosed { try index.add([1, 1, 1, 1], id: 8) }
        expectClosed { _ = try index.remove([7]) }
        expectClosed { _ = try index.search([1, 2, 3, 4], k: 1) }
        expectClosed { try index.flush() }
        expectClosed { try index.compact() }
        let reopened = try Self.open(dir, .strict)
        #expect(reopened.contains(7))
        #expect(reopened.count == 1)
    }
}
