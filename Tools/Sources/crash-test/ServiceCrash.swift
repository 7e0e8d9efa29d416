// `crash-test --service`: a child process serves a SearchCollection over HTTP
// (`SearchService`, with a keyword index and a small log so kills also land in
// checkpoints); the parent adds items through `POST /v1/items` (4 per request)
// and deletes some through `DELETE /v1/items/{id}`, one request at a time,
// noting each one the service answered 200. At a random moment it kills the
// child with SIGKILL, reopens the collection, and checks that every
// acknowledged add holds all its items with their captions and vectors, every
// acknowledged delete holds, and no add is half there. It runs on the same
// directory each time, so later runs start from what earlier kills left.
//
// Last, a graceful run: the parent sends SIGTERM while requests flow and
// checks the child exits 0 and left a checkpoint (reopening replays nothing).

import Foundation
import Logging
import MultimodalSearch
import SearchCore
import SearchService

#if canImport(Glibc)
import Glibc
#endif

enum ServiceCrash {
    static let key = "crash-test-key"

    /// Each word adds a hashed direction; enough to give every caption a vector.
    struct WordHash: TextEncoder {
        let dimension = 16
        func embed(texts: [String], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
            for (row, text) in texts.enumerated() {
                for j in 0..<dimension { output[row * dimension + j] = 0.01 }
                for word in text.split(separator: " ") {
                    var h: UInt64 = 1_469_598_103_934_665_603
                    for b in word.utf8 { h = (h ^ UInt64(b)) &* 1_099_511_628_211 }
                    output[row * dimension + Int(h % UInt64(dimension))] += 1
                }
            }
        }
    }

    static func open(_ directory: String) throws -> (SearchEngine, SearchCollection) {
        let configuration = SearchEngine.Configuration(textEncoder: WordHash(), textEncoderName: "crash-test")
        var options = SearchCollection.Options(keywordIndex: LexicalKeywordIndex.factory())
        options.headVectors = 40
        options.checkpointLogBytes = 6_000
        let collection = try SearchCollection(directory: directory, schema: SearchEngine.schema(for: configuration), options: options)
        return (try SearchEngine(configuration: configuration, collection: collection), collection)
    }

    static func child(directory: String) async throws {
        let (engine, collection) = try open(directory)
        var logger = Logger(label: "crash-test.service")
        logger.logLevel = .error  // stdout carries the "listening" line; nobody reads the rest
        let service = SearchService(
            engine: engine, collection: collection, configuration: ServiceConfiguration(port: 0, apiKeys: [key]), logger: logger)
        try await service.run { port in
            print("listening \(port)")
            fflush(nil)
        }
    }

    static func caption(_ id: Int) -> String { "item \(id) of batch \(id / 4)" }

    /// Batch `n`'s request: 4 items, or (every fifth) the deletion of an item added before.
    enum Step {
        case add(Int)
        case delete(Int)
    }

    static func step(_ n: Int) -> Step { n % 5 == 4 ? .delete((n - 2) * 4 + 1) : .add(n) }

    /// Sends `step`; true when the service answered 200.
    static func send(_ step: Step, port: Int) -> Bool {
        switch step {
        case .add(let n):
            let items = (0..<4).map { #"{"id": \#(n * 4 + $0), "caption": "\#(caption(n * 4 + $0))"}"# }.joined(separator: ",")
            let reply = try? post(port: port, "POST", "/v1/items", body: #"{"items": [\#(items)]}"#)
            return reply?.status == 200 && reply?.body.contains(#""skipped":[]"#) == true
        case .delete(let id):
            return (try? post(port: port, "DELETE", "/v1/items/\(id)", body: ""))?.status == 200
        }
    }

    struct State {
        var next = 0
        var added: Set<Int> = []
        var deleted: Set<Int> = []
        /// Deletes sent but not answered: they may or may not have happened.
        var inDoubt: Set<Int> = []
    }

    /// Starts a child; returns it and its port.
    static func start(_ directory: String) throws -> (Process, Int, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        process.arguments = ["service-child", directory]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        // Log lines may come first; the port is on the line "listening PORT".
        while true {
            var line: [UInt8] = []
            while true {
                let byte = pipe.fileHandleForReading.readData(ofLength: 1)
                if byte.isEmpty { throw SearchError(.io, "the service child ended before listening") }
                if byte.first == 10 { break }
                line += byte
            }
            let text = String(decoding: line, as: UTF8.self)
            if text.hasPrefix("listening "), let port = Int(text.dropFirst("listening ".count)) {
                return (process, port, pipe)
            }
        }
    }

    /// Sends steps until the child is gone; records what was acknowledged.
    static func drive(_ state: inout State, port: Int, process: Process) {
        while process.isRunning {
            let step = step(state.next)
            guard send(step, port: port) else { break }
            switch step {
            case .add(let n): state.added.insert(n)
            case .delete(let id): state.deleted.insert(id)
            }
            state.next += 1
        }
        // The request the kill interrupted may or may not have landed: skip past it.
        if case .delete(let id) = step(state.next) { state.inDoubt.insert(id) }
        state.next += 1
    }

    static func check(_ directory: String, _ state: State) throws -> (ok: Bool, replayed: Int) {
        let (_, collection) = try open(directory)
        defer { try? collection.close() }
        var ok = true
        func fail(_ why: String) {
            print("FAIL: \(why)")
            ok = false
        }
        if !collection.recovery.isClean && !collection.recovery.logRepairs.isEmpty && collection.recovery.interruptedItems.count > 4 {
            fail("opening repaired more than the one request in flight: \(collection.recovery)")
        }
        for n in 0..<state.next {
            guard case .add = step(n) else { continue }
            let ids = (0..<4).map { n * 4 + $0 }
            let present = try ids.filter { id in
                guard let item = try collection.item(VectorID(UInt64(id))) else { return false }
                if item.caption != caption(id) { fail("item \(id) has caption \(item.caption ?? "nil")") }
                if collection.index("caption")?.contains(VectorID(UInt64(id))) != true { fail("item \(id) has no caption vector") }
                return true
            }
            let expected = ids.filter { !state.deleted.contains($0) }
            if state.added.contains(n), Set(present) != Set(expected), Set(present).union(state.inDoubt) != Set(expected).union(state.inDoubt) {
                fail("acknowledged batch \(n): present \(present), expected \(expected)")
            }
            if !state.added.contains(n), !present.isEmpty, Set(present).union(state.inDoubt) != Set(expected).union(state.inDoubt) {
                fail("unacknowledged batch \(n) is half there: \(present)")
            }
        }
        for id in state.deleted where try collection.item(VectorID(UInt64(id))) != nil { fail("deleted item \(id) is back") }
        return (ok, collection.recovery.logRecordsReplayed)
    }

    static func parent(iterations: Int, seed: UInt64) throws -> Bool {
        var random = SplitMix64(seed: seed)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mms-crash-service-\(getpid())").path
        try? FileManager.default.removeItem(atPath: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var state = State()
        var failures = 0
        for _ in 0..<iterations {
            let (process, port, _) = try start(directory)
            let delay = 20_000 + Int(random.next() % 400_000)
            let pid = process.processIdentifier
            DispatchQueue.global().asyncAfter(deadline: .now() + .microseconds(delay)) { kill(pid, SIGKILL) }
            drive(&state, port: port, process: process)
            process.waitUntilExit()
            if try !check(directory, state).ok { failures += 1 }
        }
        // A graceful stop: SIGTERM while requests flow.
        let (process, port, _) = try start(directory)
        let pid = process.processIdentifier
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(300)) { kill(pid, SIGTERM) }
        drive(&state, port: port, process: process)
        process.waitUntilExit()
        let graceful = process.terminationReason == .exit && process.terminationStatus == 0
        let (ok, replayed) = try check(directory, state)
        if !graceful { print("FAIL: after SIGTERM the service ended with \(process.terminationReason == .exit ? "status" : "signal") \(process.terminationStatus)") }
        if replayed != 0 { print("FAIL: after SIGTERM, opening replayed \(replayed) log records (no checkpoint at shutdown)") }
        let passed = failures == 0 && graceful && ok && replayed == 0
        print("crash test (service): \(iterations - failures) of \(iterations) kill -9 runs kept every acknowledged request (\(state.added.count) adds of 4 items and \(state.deleted.count) deletes acknowledged); SIGTERM \(graceful && replayed == 0 ? "exited 0 with a checkpoint" : "FAILED")")
        return passed
    }

    // MARK: - A blocking HTTP/1.1 exchange (Connection: close)

    struct Reply {
        var status: Int
        var body: String
    }

    static func post(port: Int, _ method: String, _ path: String, body: String) throws -> Reply {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SearchError(.io, "socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw SearchError(.io, "connect: errno \(errno)") }
        let request = Array(
            ("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-API-Key: \(key)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)").utf8)
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw SearchError(.io, "write: errno \(errno)") }
            sent += n
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { throw SearchError(.io, "read: errno \(errno)") }
            if n == 0 { break }
            response += buffer[0..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        let statusLine = parts.first?.split(separator: "\r\n").first ?? ""
        let fields = statusLine.split(separator: " ")
        guard parts.count >= 2, fields.count >= 2, let status = Int(fields[1]) else {
            throw SearchError(.io, "no complete response")
        }
        return Reply(status: status, body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }
}
