// Durability under kill -9: a child process commits batches to a write-ahead
// log and prints "ack N" after each commit returns; the parent kills it with
// SIGKILL at a random moment, reopens the log, and checks that every
// acknowledged batch is there, whole and in order, and nothing is half there.
//
//     crash-test [--iterations 50] [--seed 1]
//
// (`crash-test child PATH FIRST` is the child's entry point.)

import ANNIndex
import Foundation
import SearchCore

#if canImport(Glibc)
import Glibc
#endif

/// The payload of batch `n`: its number, then a length and bytes derived from it,
/// so a replayed record can be checked whole.
func payload(_ n: Int) -> [UInt8] {
    var bytes: [UInt8] = []
    withUnsafeBytes(of: UInt64(n).littleEndian) { bytes += $0 }
    let length = 16 + (n * 7_919) % 4_000
    for i in 0..<length { bytes.append(UInt8(truncatingIfNeeded: n &* 31 &+ i)) }
    return bytes
}

func batchNumber(_ record: [UInt8]) -> Int? {
    guard record.count >= 8 else { return nil }
    let n = Int(record.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian)
    return record == payload(n) ? n : nil
}

func child(path: String, first: Int) throws {
    let (log, _) = try WriteAheadLog.open(path: path)
    var n = first
    while true {
        try log.append(payload(n))
        try log.commit()
        print("ack \(n)")
        fflush(nil)
        n += 1
    }
}

func parent(iterations: Int, seed: UInt64) throws -> Bool {
    var seeded = seed
    func nextDelay() -> UInt32 {
        seeded = seeded &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt32(10_000 + (seeded >> 33) % 190_000)  // 10–200 ms
    }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mms-crash-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("wal.log").path
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
    var acknowledged = -1
    var failures = 0
    for iteration in 1...iterations {
        let existing = FileManager.default.fileExists(atPath: path) ? try WriteAheadLog.replay(path: path).records.count : 0
        let process = Process()
        process.executableURL = executable
        process.arguments = ["child", path, String(existing)]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        usleep(nextDelay())
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        for line in output.split(separator: "\n") where line.hasPrefix("ack ") {
            acknowledged = max(acknowledged, Int(line.dropFirst(4)) ?? -1)
        }
        let records = try WriteAheadLog.replay(path: path).records
        let numbers = records.map(batchNumber)
        let whole = numbers.allSatisfy { $0 != nil }
        let inOrder = numbers.enumerated().allSatisfy { $0.element == $0.offset }
        let nothingLost = records.count > acknowledged
        if !(whole && inOrder && nothingLost) {
            failures += 1
            print("run \(iteration): FAILED — \(records.count) records, highest acknowledged \(acknowledged), whole \(whole), in order \(inOrder)")
        }
    }
    let records = try WriteAheadLog.replay(path: path).records.count
    print("crash test: \(iterations - failures) of \(iterations) kill -9 runs kept every acknowledged commit (\(records) batches committed, \(acknowledged + 1) acknowledged)")
    return failures == 0
}

let arguments = CommandLine.arguments
do {
    if arguments.count >= 4, arguments[1] == "child" {
        try child(path: arguments[2], first: Int(arguments[3]) ?? 0)
    } else {
        var iterations = 50
        var seed: UInt64 = 1
        var i = 1
        while i < arguments.count {
            switch arguments[i] {
            case "--iterations": iterations = Int(arguments[i + 1]) ?? iterations; i += 2
            case "--seed": seed = UInt64(arguments[i + 1]) ?? seed; i += 2
            default:
                FileHandle.standardError.write(Data("usage: crash-test [--iterations N] [--seed S]\n".utf8))
                exit(2)
            }
        }
        exit(try parent(iterations: max(1, iterations), seed: seed) ? 0 : 1)
    }
} catch {
    FileHandle.standardError.write(Data("crash-test: \(error)\n".utf8))
    exit(1)
}
