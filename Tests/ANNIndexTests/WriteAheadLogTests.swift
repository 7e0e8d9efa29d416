import Foundation
import SearchCore
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

    @Test("a log cut at any byte replays the complete records before the cut, and reopening repairs it")
    func tornTail() throws {
        let path = Self.temporaryPath()
        let records = Self.payloads(8)
        do {
            let (log, _) = try WriteAheadLog.open(path: path)
            for r in records { try log.append(r) }
            try log.commit()
        }
        let full = try Data(contentsOf: URL(fileURLWithPath: path))
        var ends: [Int] = [WriteAheadLog.headerSize]
        for r in records { ends.append(ends.last! + 8 + r.count) }
        for cut in WriteAheadLog.headerSize...full.count {
            try full.prefix(cut).write(to: URL(fileURLWithPath: path))
            let complete = ends.lastIndex { $0 <= cut }!
            let (replayed, valid) = try WriteAheadLog.replay(path: path)
            #expect(replayed == Array(records.prefix(complete)), "cut at \(cut)")
            #expect(valid == ends[complete])
        }
        // Reopening cuts the torn bytes and appends after the last good record.
        try full.prefix(ends[3] + 5).write(to: URL(fileURLWithPath: path))
        let (log, existing) = try WriteAheadLog.open(path: path)
        #expect(existing == Array(records.prefix(3)))
        try log.append([7])
        try log.commit()
        #expect(try WriteAheadLog.replay(path: path).records == Array(records.prefix(3)) + [[7]])
    }

    @Test("damage in the last record is a torn write; damage before a valid record is corruption naming the offset")
    func corruption() throws {
        let path = Self.temporaryPath()
        let records = Self.payloads(5)
        do {
            let (log, _) = try WriteAheadLog.open(path: path)
            for r in records { try log.append(r) }
            try log.commit()
        }
        let full = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var ends: [Int] = [WriteAheadLog.headerSize]
        for r in records { ends.append(ends.last! + 8 + r.count) }
        for i in WriteAheadLog.headerSize..<full.count {
            var bytes = full
            bytes[i] ^= 0x10
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let record = ends.lastIndex { $0 <= i }!
            if record == records.count - 1 {
                #expect(try WriteAheadLog.replay(path: path).records == Array(records.prefix(record)), "flip at \(i)")
            } else {
                do {
                    let replayed = try WriteAheadLog.replay(path: path).records
                    Issue.record("flip at \(i) in record \(record) replayed \(replayed.count) records without an error")
                } catch {
                    #expect(error.code == .corruptData)
                    #expect(error.message.contains("offset \(ends[record])"), "\(error.message)")
                }
            }
        }
        var header = full
        header[2] = 0
        try Data(header).write(to: URL(fileURLWithPath: path))
        #expect(throws: SearchError.self) { _ = try WriteAheadLog.replay(path: path) }
    }
}
