// Durability under kill -9: a child process commits batches to a write-ahead
// log and prints "ack N" after each commit returns; the parent kills it with
// SIGKILL at a random moment, reopens the log, and checks that every
// acknowledged batch is there, whole and in order, and nothing is half there.
// Every reopening must classify what the kill left as nothing or a torn tail
// (never damage), and the tally of torn tails is printed.
//
//     crash-test [--iterations 50] [--seed 1]
//
// With --index, the child adds batches to a PersistentIndex (flushing to
// segments every few batches, so kills also land in flushes and manifest
// switches) and the parent checks every acknowledged batch is searchable and
// no batch is half there.
//
// With --collection, the child drives a SearchCollection (see CollectionCrash.swift);
// with --lexical, a keyword LexicalIndex (see LexicalCrash.swift); with
// --service, the HTTP service over a collection (see ServiceCrash.swift).
//
// (`crash-test child PATH FIRST`, `index-child DIR FIRST` and `collection-child DIR FIRST` are the children.)

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

let batchSize = 8
let indexDimension = 16

/// The vector stored under `id`: derived from it (a SplitMix64 stream seeded
/// by the id), so the parent can check contents and no two ids share one.
func vector(_ id: Int) -> [Float] {
    var state = UInt64(id) &* 0x9E37_79B9_7F4A_7C15
    return (0..<indexDimension).map { _ in
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Float((z ^ (z >> 31)) >> 40) / Float(1 << 24)
    }
}

func indexChild(directory: String, first: Int) throws {
    let index = try PersistentIndex(directory: directory, dimension: indexDimension, metric: .squaredL2, flushThreshold: 40)
    var batch = first
    while true {
        let ids = (0..<batchSize).map { VectorID(UInt64(batch * batchSize + $0)) }
        try index.add(ids.flatMap { vector(Int($0.rawValue)) }, ids: ids)
        print("ack \(batch)")
        fflush(nil)
        batch += 1
    }
}

/// Checks an index after a kill: every batch up to `acknowledged` whole and
/// correct, no batch half there. Returns the number of whole batches.
func checkIndex(_ directory: String, acknowledged: Int) throws -> (ok: Bool, batches: Int, torn: Bool) {
    // The default policy: a kill leaves at most a torn tail; damage would throw here.
    let index = try PersistentIndex(directory: directory, dimension: indexDimension, metric: .squaredL2, flushThreshold: 40)
    defer { index.close() }
    var batch = 0
    var ok = true
    while true {
        let present = (0..<batchSize).filter { index.contains(VectorID(UInt64(batch * batchSize + $0))) }.count
        if present == 0 { break }
        if present != batchSize {
            print("batch \(batch) is half there: \(present) of \(batchSize)")
            ok = false
        }
        let probe = batch * batchSize + batch % batchSize
        // Contents: every 32nd batch and the last ones, where a crash lands.
        if (batch % 32 == 0 || batch + 4 > acknowledged), try index.search(vector(probe), k: 1).first?.id != VectorID(UInt64(probe)) {
            print("batch \(batch): vector \(probe) does not find itself")
            ok = false
        }
        batch += 1
    }
    if batch <= acknowledged {
        print("acknowledged batch \(acknowledged) but only \(batch) batches survived")
        ok = false
    }
    if index.count != batch * batchSize { ok = false }
    if case .tornTail = index.recovery.outcome { return (ok, batch, true) }
    return (ok, batch, false)
}

/// Starts this executable with `arguments` (a child that prints "ack N"
/// after each durable step), kills it with SIGKILL after `microseconds`, and
/// returns the highest N it acknowledged (or `previous` if none).
func runAndKill(_ arguments: [String], after microseconds: UInt32, previous: Int) throws -> Int {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    usleep(microseconds)
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    var acknowledged = previous
    for line in output.split(separator: "\n") where line.hasPrefix("ack ") {
        acknowledged = max(acknowledged, Int(line.dropFirst(4)) ?? -1)
    }
    return acknowledged
}

func indexParent(iterations: Int, seed: UInt64) throws -> Bool {
    var seeded = seed
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mms-crash-index-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    var acknowledged = -1
    var failures = 0
    var batches = 0
    var tornTails = 0
    for iteration in 1...iterations {
        seeded = seeded &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        acknowledged = try runAndKill(
            ["index-child", folder.path, String(batches)], after: UInt32(20_000 + (seeded >> 33) % 200_000),
            previous: acknowledged)
        let (ok, whole, torn) = try checkIndex(folder.path, acknowledged: acknowledged)
        batches = whole
        if torn { tornTails += 1 }
        if !ok {
            failures += 1
            print("run \(iteration): FAILED (highest acknowledged batch \(acknowledged), \(whole) whole batches)")
        }
    }
    print("crash test (persistent index): \(iterations - failures) of \(iterations) kill -9 runs kept every acknowledged batch whole (\(batches) batches, \(acknowledged + 1) acknowledged; \(tornTails) torn log tails repaired)")
    return failures == 0
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
    var acknowledged = -1
    var failures = 0
    var tornTails = 0
    for iteration in 1...iterations {
        let existing = FileManager.default.fileExists(atPath: path) ? try WriteAheadLog.replay(path: path).records.count : 0
        acknowledged = try runAndKill(["child", path, String(existing)], after: nextDelay(), previous: acknowledged)
        // The default policy throws on damage; a kill may only leave a torn tail.
        let (records, recovery) = try WriteAheadLog.replay(path: path)
        if case .tornTail = recovery.outcome { tornTails += 1 }
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
    print("crash test: \(iterations - failures) of \(iterations) kill -9 runs kept every acknowledged commit (\(records) batches committed, \(acknowledged + 1) acknowledged; \(tornTails) torn tails found)")
    return failures == 0
}

let arguments = CommandLine.arguments
do {
    if arguments.count >= 4, arguments[1] == "child" {
        try child(path: arguments[2], first: Int(arguments[3]) ?? 0)
    } else if arguments.count >= 4, arguments[1] == "collection-child" {
        try CollectionCrash.child(directory: arguments[2], first: Int(arguments[3]) ?? 0)
    } else if arguments.count >= 4, arguments[1] == "lexical-child" {
        try LexicalCrash.child(directory: arguments[2], first: Int(arguments[3]) ?? 0)
    } else if arguments.count >= 3, arguments[1] == "service-child" {
        let directory = arguments[2]
        let done = DispatchSemaphore(value: 0)
        // Detached: top-level code is on the main actor, whose thread waits below.
        Task.detached {
            do {
                try await ServiceCrash.child(directory: directory)
                exit(0)
            } catch {
                FileHandle.standardError.write(Data("crash-test service-child: \(error)\n".utf8))
                exit(1)
            }
        }
        done.wait()
    } else if arguments.count >= 4, arguments[1] == "index-child" {
        try indexChild(directory: arguments[2], first: Int(arguments[3]) ?? 0)
    } else {
        var iterations = 50
        var seed: UInt64 = 1
        var index = false
        var collection = false
        var lexical = false
        var service = false
        var i = 1
        while i < arguments.count {
            switch arguments[i] {
            case "--iterations" where i + 1 < arguments.count: iterations = Int(arguments[i + 1]) ?? iterations; i += 2
            case "--seed" where i + 1 < arguments.count: seed = UInt64(arguments[i + 1]) ?? seed; i += 2
            case "--index": index = true; i += 1
            case "--collection": collection = true; i += 1
            case "--lexical": lexical = true; i += 1
            case "--service": service = true; i += 1
            default:
                FileHandle.standardError.write(Data("usage: crash-test [--index | --collection | --lexical | --service] [--iterations N] [--seed S]\n".utf8))
                exit(2)
            }
        }
        let passed =
            service
            ? try ServiceCrash.parent(iterations: max(1, iterations), seed: seed)
            : lexical
            ? try LexicalCrash.parent(iterations: max(1, iterations), seed: seed)
            : collection
            ? try CollectionCrash.parent(iterations: max(1, iterations), seed: seed)
            : index
                ? try indexParent(iterations: max(1, iterations), seed: seed)
                : try parent(iterations: max(1, iterations), seed: seed)
        exit(passed ? 0 : 1)
    }
} catch {
    FileHandle.standardError.write(Data("crash-test: \(error)\n".utf8))
    exit(1)
}
