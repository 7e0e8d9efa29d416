import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A milvus-lite server on 127.0.0.1 for the adapter's tests: made from the
/// venv `scripts/milvus-env.sh` creates, on a free port, with its own data
/// directory; stopped (or killed) by the test.
final class MilvusLiteServer: @unchecked Sendable {
    // @unchecked Sendable: `process` is replaced only by `start`/`restart`,
    // which the owning test calls from one task at a time.
    let port: Int
    let dataDirectory: URL
    let log: URL
    private var process: Process?

    var uri: String { "http://127.0.0.1:\(port)" }

    /// The repository root (the folder above `Milvus/`).
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Makes (or reuses) the venv and starts a server on a free port.
    init() throws {
        dataDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("mms-milvus-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        log = dataDirectory.appendingPathExtension("log")
        port = try Self.freePort()
        try start()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: dataDirectory)
        try? FileManager.default.removeItem(at: log)
    }

    /// The venv's `milvus-lite`, made once per test process.
    private static let executable: Result<URL, any Error> = Result {
        let script = repositoryRoot.appendingPathComponent("scripts/milvus-env.sh")
        let make = Process()
        make.executableURL = URL(fileURLWithPath: "/bin/bash")
        make.arguments = [script.path]
        let out = Pipe()
        make.standardOutput = out
        try make.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        make.waitUntilExit()
        guard make.terminationStatus == 0 else {
            throw ServerError("scripts/milvus-env.sh failed (exit \(make.terminationStatus)); run it by hand to see why")
        }
        let venv = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        return URL(fileURLWithPath: venv).appendingPathComponent("bin/milvus-lite")
    }

    /// Starts the server on ``port`` over ``dataDirectory`` and waits until it accepts connections.
    func start() throws {
        let process = Process()
        // A watchdog beside the server SIGKILLs it once this test process is
        // gone, so no server outlives the tests (Swift Testing has no global
        // tear-down); `exec` keeps the server's pid the process's own.
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [
            "-c",
            #"parent=$1; shift; (while kill -0 "$parent" 2>/dev/null; do sleep 0.5; done; kill -9 $$ 2>/dev/null) & exec "$@""#,
            "milvus-lite-watchdog", String(getpid()), try Self.executable.get().path,
            "server", "--data-dir", dataDirectory.path, "--host", "127.0.0.1", "--port", String(port),
        ]
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            guard process.isRunning else {
                throw ServerError("milvus-lite exited (\(process.terminationStatus)) before listening; log: \(tailOfLog())")
            }
            if Self.accepts(port: port) { return }
            usleep(100_000)
        }
        throw ServerError("milvus-lite did not listen on 127.0.0.1:\(port) within 120 s; log: \(tailOfLog())")
    }

    /// SIGTERM, then SIGKILL after 10 s (milvus-lite may not stop on SIGTERM).
    func stop() {
        guard let process, process.isRunning else { return }
        process.terminate()
        if !Self.wait(for: process, seconds: 10) { kill() }
    }

    /// SIGKILL: the server dies without a chance to flush anything.
    func kill() {
        guard let process, process.isRunning else { return }
        _ = Glibc.kill(process.processIdentifier, SIGKILL)
        _ = Self.wait(for: process, seconds: 30)
    }

    /// Polls instead of `waitUntilExit`, which spins a run loop on Linux.
    private static func wait(for process: Process, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { usleep(50_000) }
        return !process.isRunning
    }

    func tailOfLog() -> String {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return String(text.suffix(2000))
    }

    /// A port the kernel has just handed out on 127.0.0.1 and released.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerError("socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw ServerError("bind to 127.0.0.1:0 failed: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

struct ServerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
