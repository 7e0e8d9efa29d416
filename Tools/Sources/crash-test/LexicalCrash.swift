// `crash-test --lexical`: a child process drives a LexicalIndex through a
// fixed sequence — operation n adds four documents, except every third,
// which removes the documents of operation n − 2; the adds after a removal
// are four deferred adds (`.deferred`) and a `commit()` — printing "ack N" after
// each returns, with a head of 30 documents and at most 3 segments, so kills
// also land in flushes, manifest switches and merges. The parent kills it
// with SIGKILL at a random moment, reopens the index, and checks that every
// acknowledged operation holds (its documents searchable, or removed), that
// the one in flight is all there or not at all, and that a search for the
// word every document has returns exactly the live documents.

import Foundation
import LexicalIndex
import SearchCore

#if canImport(Glibc)
import Glibc
#endif

enum LexicalCrash {
    static let configuration = LexicalIndex.Configuration(fields: [.caption, .fileName])
    static let options = LexicalIndex.Options(headDocuments: 30, maximumSegments: 3)

    static func isRemoval(_ n: Int) -> Bool { n % 3 == 2 }
    /// Whether operation n adds its documents one by one, deferred, then commits.
    static func isDeferred(_ n: Int) -> Bool { n % 3 == 0 }
    static func ids(_ n: Int) -> [VectorID] { (0..<4).map { VectorID(UInt64(n * 4 + $0)) } }

    static func child(directory: String, first: Int) throws {
        let index = try LexicalIndex(directory: directory, configuration: configuration, options: options)
        var n = first
        while true {
            if isRemoval(n) {
                for id in ids(n - 2) { _ = try index.remove(id: id) }
            } else if isDeferred(n) {
                for id in ids(n) {
                    try index.add(
                        [(id, ["caption": "common operation\(n) document\(id.rawValue)", "fileName": "IMG_\(id.rawValue).jpg"])],
                        durability: .deferred)
                }
                try index.commit()
            } else {
                try index.add(
                    ids(n).map { ($0, ["caption": "common operation\(n) document\($0.rawValue)", "fileName": "IMG_\($0.rawValue).jpg"]) })
            }
            print("ack \(n)")
            fflush(nil)
            n += 1
        }
    }

    /// Opens the index after a kill; whether it holds every acknowledged operation, and the first not acknowledged.
    static func check(_ directory: String, acknowledged: Int) throws -> (ok: Bool, next: Int) {
        let index = try LexicalIndex(directory: directory, configuration: configuration, options: options)
        var expected = Set<VectorID>()
        for n in 0...max(acknowledged, 0) where acknowledged >= 0 {
            if isRemoval(n) { expected.subtract(ids(n - 2)) } else { expected.formUnion(ids(n)) }
        }
        var ok = true
        var next = acknowledged + 1
        // The operation in flight: all or nothing. A removal is one log record per id, so it may be partial.
        let inFlight = acknowledged + 1
        if isRemoval(inFlight) {
            let removed = ids(inFlight - 2).filter { !index.contains($0) }
            if !removed.isEmpty {
                expected.subtract(removed)
                if removed.count == 4 { next = inFlight + 1 } else { next = inFlight }
            }
        } else if isDeferred(inFlight) {
            // Four writes, none acknowledged: any of them may have reached the log, in order.
            let present = ids(inFlight).filter(index.contains)
            if present != Array(ids(inFlight).prefix(present.count)) {
                print("operation \(inFlight) kept \(present), not a prefix of its adds")
                ok = false
            }
            expected.formUnion(present)
            next = present.count == 4 ? inFlight + 1 : inFlight
        } else {
            let present = ids(inFlight).filter(index.contains)
            if present.count == 4 {
                expected.formUnion(present)
                next = inFlight + 1
            } else if !present.isEmpty {
                print("operation \(inFlight) is half there: \(present)")
                ok = false
            }
        }
        let hits = try index.search("common", k: 1_000_000)
        if Set(hits.map(\.id)) != expected || hits.count != expected.count || index.count != expected.count {
            print("expected \(expected.count) live documents, search found \(hits.count), count \(index.count)")
            ok = false
        }
        for id in expected.prefix(8) where try index.search("document\(id.rawValue)", k: 1).first?.id != id {
            print("document \(id) not found by its own word")
            ok = false
        }
        return (ok, next)
    }

    static func parent(iterations: Int, seed: UInt64) throws -> Bool {
        var seeded = seed
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mms-crash-lexical-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var acknowledged = -1
        var failures = 0
        var next = 0
        for iteration in 1...iterations {
            seeded = seeded &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            acknowledged = try runAndKill(
                ["lexical-child", folder.path, String(next)], after: UInt32(50_000 + (seeded >> 33) % 350_000),
                previous: acknowledged)
            let (ok, resume) = try check(folder.path, acknowledged: acknowledged)
            // A partly applied removal is finished by the next child, which starts at it again.
            next = resume
            acknowledged = resume - 1
            if !ok {
                failures += 1
                print("run \(iteration): FAILED (highest acknowledged operation \(acknowledged))")
            }
        }
        print("crash test (keyword index): \(iterations - failures) of \(iterations) kill -9 runs kept every acknowledged operation (\(next) operations)")
        return failures == 0
    }
}
