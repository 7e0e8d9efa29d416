import Foundation
import SearchCore
import Tensor
import Testing
import _TestSupport

@testable import ANNIndex

@Suite("Write-ahead log")
struct WriteAheadLogTests {
    static func temporaryPath() -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mms-wal-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent("wal-000001.log").path
    }

    static func payloads(_ n: Int, seed: UInt64 = 1) -> [[UInt8]] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { i in (0..<(1 + i * 7 % 90)).map { _ in UInt8.random(in: 0...255, using: &rng) } }
    }

    @Test("committed records come back in order after reopening; appends continue after them")
    func roundTrip() throws {
        let path = Self.temporaryPath()
        let records = Self.payloads(20)
        do {
            let (log, existing) = try WriteAheadLog.open(path: path)
            #expect(existing.isEmpty)
            for (i, r) in records.enumerated() {
                try log.append(r)
                if i % 3 == 2 { try log.commit() }  // group commits of three
            }
            try log.commit()
        }
        let (log, existing) = try WriteAheadLog.open(path: path)
        #expect(existing == records)
        try log.append([9, 9, 9])
        try log.commit()
        #expect(try WriteAheadLog.replay(path: path).records == records + [[9, 9, 9]])
    }

    @Test("appended but uncommitted records are not durable")
    func uncommitted() throws {
        let path = Self.temporaryPath()
        do {
            let (log, _) = try WriteAheadLog.open(path: path)
            try log.append([1])
            try log.commit()
            try log.append([2])
        }
        #expect(try WriteAheadLog.replay(path: path).records == [[1]])
    }

    /// Writes `records` to a new log and returns its bytes and the offset where each record ends.
    static func written(_ records: [[UInt8]], at path: String) throws -> (bytes: [UInt8], ends: [Int]) {
        do {
            let (log, _) = try WriteAheadLog.open(path: path)
            #expect(log.formatVersion == 2)
            for r in records { try log.append(r) }
            try log.commit()
        }
        var ends: [Int] = [WriteAheadLog.headerSize]
        for r in records { ends.append(ends.last! + 12 + r.count) }
        return ([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), ends)
    }

    @Test("a log cut at any byte replays the complete records before the cut and reports a torn tail; reopening repairs it")
    func tornTail() throws {
        let path = Self.temporaryPath()
        let records = Self.payloads(8)
        let (full, ends) = try Self.written(records, at: path)
        for cut in WriteAheadLog.headerSize...full.count {
            try Data(full.prefix(cut)).write(to: URL(fileURLWithPath: path))
            let complete = ends.lastIndex { $0 <= cut }!
            let (replayed, report) = try WriteAheadLog.replay(path: path)
            #expect(replayed == Array(records.prefix(complete)), "cut at \(cut)")
            #expect(report.recordsReplayed == complete)
            #expect(report.bytesKept == ends[complete])
            #expect(report.bytesDropped == cut - ends[complete])
            #expect(report.outcome == (cut == ends[complete] ? .none : .tornTail(offset: ends[complete])), "cut at \(cut)")
            // .strict refuses a torn tail, and only a torn tail.
            if cut == ends[complete] {
                #expect(try WriteAheadLog.replay(path: path, policy: .strict).records.count == complete)
            } else {
                #expect(throws: SearchError.self) { _ = try WriteAheadLog.replay(path: path, policy: .strict) }
            }
        }
        // Reopening cuts the torn bytes and appends after the last good record.
        try Data(full.prefix(ends[3] + 5)).write(to: URL(fileURLWithPath: path))
        let (log, existing) = try WriteAheadLog.open(path: path)
        #expect(existing == Array(records.prefix(3)))
        #expect(log.recovery.outcome == .tornTail(offset: ends[3]))
        try log.append([7])
        try log.commit()
        #expect(try WriteAheadLog.replay(path: path).records == Array(records.prefix(3)) + [[7]])
    }

    @Test("zero bytes after the last record (blocks a power loss never wrote) are a torn tail")
    func zeroFilledTail() throws {
        let path = Self.temporaryPath()
        let records = Self.payloads(4)
        let (full, ends) = try Self.written(records, at: path)
        for zeros in [1, 11, 12, 100, 4096] {
            try Data(full + [UInt8](repeating: 0, count: zeros)).write(to: URL(fileURLWithPath: path))
            let (replayed, report) = try WriteAheadLog.replay(path: path)
            #expect(replayed == records)
            #expect(report.outcome == .tornTail(offset: ends[4]))
            #expect(report.bytesDropped == zeros)
        }
        // The last record's payload zeroed too: still unwritten blocks.
        var zeroed = full
        for i in (ends[3] + 12)..<ends[4] { zeroed[i] = 0 }
        try Data(zeroed + [0, 0, 0]).write(to: URL(fileURLWithPath: path))
        #expect(throws: SearchError.self) { _ = try WriteAheadLog.replay(path: path) }  // header intact, payload zero: damage
        for i in ends[3]..<ends[4] { zeroed[i] = 0 }
        try Data(zeroed).write(to: URL(fileURLWithPath: path))
        #expect(try WriteAheadLog.replay(path: path).recovery.outcome == .tornTail(offset: ends[3]))
    }

    @Test("any flipped bit in a complete record is damage naming the offset, never a torn tail; .dropDamagedRecords drops and reports it")
    func corruption() throws {
        let path = Self.temporaryPath()
        let records = Self.payloads(5)
        let (full, ends) = try Self.written(records, at: path)
        for i in WriteAheadLog.headerSize..<full.count {
            for bit in [0x01, 0x10, 0x80] {
                var bytes = full
                bytes[i] ^= UInt8(bit)
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                let record = ends.lastIndex { $0 <= i }!
                for policy in [RecoveryPolicy.repairTornTail, .strict] {
                    do {
                        let replayed = try WriteAheadLog.replay(path: path, policy: policy).records
                        Issue.record("flip \(bit) at \(i) in record \(record) replayed \(replayed.count) records without an error")
                    } catch {
                        #expect(error.code == .corruptData)
                        #expect(error.message.contains("offset \(ends[record])"), "\(error.message)")
                        #expect(error.message.contains(path))
                        #expect(error.message.contains(".dropDamagedRecords"))
                    }
                }
                let (replayed, report) = try WriteAheadLog.replay(path: path, policy: .dropDamagedRecords)
                #expect(replayed == Array(records.prefix(record)))
                #expect(report.bytesKept == ends[record])
                #expect(report.bytesDropped == full.count - ends[record])
                guard case .droppedDamagedRecord(let offset, _, let side) = report.outcome else {
                    Issue.record("flip at \(i): \(report)")
                    continue
                }
                #expect(offset == ends[record])
                #expect(side == path + ".damaged-\(offset)")
            }
        }
        // Opening with .dropDamagedRecords cuts the log and keeps the dropped bytes beside it.
        var bytes = full
        bytes[ends[2] + 13] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: SearchError.self) { _ = try WriteAheadLog.open(path: path) }
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == bytes, "a refused open changes nothing")
        let (log, existing) = try WriteAheadLog.open(path: path, policy: .dropDamagedRecords)
        #expect(existing == Array(records.prefix(2)))
        #expect(log.recovery.description.contains("DROPPED"))
        let side = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + ".damaged-\(ends[2])")))
        #expect(side == Array(bytes[ends[2]...]))
        #expect(try WriteAheadLog.replay(path: path, policy: .strict).records == Array(records.prefix(2)))

        var header = full
        header[2] = 0
        try Data(header).write(to: URL(fileURLWithPath: path))
        #expect(throws: SearchError.self) { _ = try WriteAheadLog.replay(path: path) }
    }

    @Test("version 1 logs are still read and appended to, under version 1's rules")
    func versionOne() throws {
        let path = Self.temporaryPath()
        let records = Self.payloads(4)
        // A version 1 image: length u32, CRC-32C(length bytes + payload) u32, payload.
        var bytes = WriteAheadLog.magic
        LittleEndian.append(UInt32(1), to: &bytes)
        LittleEndian.append(UInt32(0), to: &bytes)
        var ends = [bytes.count]
        for r in records {
            var length: [UInt8] = []
            LittleEndian.append(UInt32(r.count), to: &length)
            var crc = CRC32C()
            crc.update(length)
            crc.update(r)
            bytes += length
            LittleEndian.append(crc.value, to: &bytes)
            bytes += r
            ends.append(bytes.count)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(try WriteAheadLog.replay(path: path).records == records)
        // A torn tail, then damage in the last complete record.
        try Data(bytes.prefix(bytes.count - 2)).write(to: URL(fileURLWithPath: path))
        #expect(try WriteAheadLog.replay(path: path).recovery.outcome == .tornTail(offset: ends[3]))
        var flipped = bytes
        flipped[ends[3] + 9] ^= 4
        try Data(flipped).write(to: URL(fileURLWithPath: path))
        #expect(throws: SearchError.self) { _ = try WriteAheadLog.replay(path: path) }
        // Appends continue in version 1.
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let (log, existing) = try WriteAheadLog.open(path: path)
        #expect(existing == records)
        #expect(log.formatVersion == 1)
        try log.append([5, 6])
        try log.commit()
        let (again, report) = try WriteAheadLog.replay(path: path, policy: .strict)
        #expect(again == records + [[5, 6]])
        #expect(report.formatVersion == 1)
    }

    @Test("a new log is format 2 exactly as documented: header, then length, payload CRC-32C, header CRC-32C, payload")
    func formatTwoBytes() throws {
        let path = Self.temporaryPath()
        let payloads: [[UInt8]] = [[], [1, 2, 3], Array(repeating: 0xAB, count: 300)]
        do {
            let (log, _) = try WriteAheadLog.open(path: path)
            for p in payloads { try log.append(p) }
            try log.commit()
        }
        var expected = Array("MMSWAL01".utf8) + [2, 0, 0, 0] + [0, 0, 0, 0]
        for p in payloads {
            let length = [UInt8(p.count & 0xFF), UInt8(p.count >> 8), 0, 0]
            let payloadCRC = CRC32C.checksum(p)
            let header = length + [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: payloadCRC >> UInt32($0)) }
            let headerCRC = CRC32C.checksum(header)
            expected += header + [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: headerCRC >> UInt32($0)) } + p
        }
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == expected)
        // The fuzzer's version 2 seed, written by an independent script, replays strictly.
        let seed = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/seeds/fuzz-wal/three-records-v2")
        if FileManager.default.fileExists(atPath: seed.path) {
            let (records, report) = try WriteAheadLog.replay(path: seed.path, policy: .strict)
            #expect(records.count == 3)
            #expect(report.formatVersion == 2)
        }
    }

    @Test("a closed log refuses commits; closing twice is harmless")
    func closing() throws {
        let (log, _) = try WriteAheadLog.open(path: Self.temporaryPath())
        try log.append([1])
        try log.commit()
        log.close()
        log.close()
        #expect(throws: SearchError.self) { try log.commit() }
    }
}
