import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tiny HTTP/1.1 file server on 127.0.0.1 for the model store's tests:
/// GET with optional `Range: bytes=N-`, one request per connection, and
/// switches that misbehave on purpose (cut a body short, ignore ranges).
final class LocalHTTPServer: Sendable {
    struct Request: Sendable {
        var path: String
        var range: Int?
        var authorization: String?
    }

    private struct State {
        var files: [String: [UInt8]] = [:]
        /// Paths whose next responses are cut after this many body bytes, with how many times to do it.
        var cuts: [String: (bytes: Int, times: Int)] = [:]
        var ignoresRange = false
        var requests: [Request] = []
    }

    let port: UInt16
    private let listener: Int32
    private let state = Mutex(State())
    private let stopped = Atomic<Bool>(false)

    init(files: [String: [UInt8]]) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        state.withLock { $0.files = files }
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit { stop() }

    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    var requests: [Request] { state.withLock { $0.requests } }

    func cut(_ path: String, after bytes: Int, times: Int = 1) {
        state.withLock { $0.cuts[path] = (bytes, times) }
    }

    func ignoreRanges() { state.withLock { $0.ignoresRange = true } }

    func stop() {
        if stopped.exchange(true, ordering: .acquiringAndReleasing) { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while !stopped.load(ordering: .acquiring) {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            serve(client)
            close(client)
        }
    }

    private func serve(_ fd: Int32) {
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !buffer.containsHeaderEnd {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { return }
            buffer.append(contentsOf: chunk[0..<n])
            if buffer.count > 65536 { return }
        }
        let text = String(decoding: buffer, as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n")
        let requestLine = lines.first?.split(separator: " ") ?? []
        guard requestLine.count >= 2 else { return }
        let path = String(requestLine[1])
        var range: Int?
        var authorization: String?
        for line in lines.dropFirst() {
            let lower = line.lowercased()
            if lower.hasPrefix("range: bytes="), let dash = line.firstIndex(of: "-") {
                range = Int(line[line.index(line.startIndex, offsetBy: 13)..<dash])
            }
            if lower.hasPrefix("authorization:") { authorization = String(line.dropFirst(14)).trimmingCharacters(in: .whitespaces) }
        }
        let (file, cut, ignoresRange): ([UInt8]?, Int?, Bool) = state.withLock { s in
            s.requests.append(Request(path: path, range: range, authorization: authorization))
            var cut: Int?
            if let c = s.cuts[path], c.times > 0 {
                cut = c.bytes
                s.cuts[path] = (c.bytes, c.times - 1)
            }
            return (s.files[path], cut, s.ignoresRange)
        }
        guard let file else {
            send(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        }
        var body = file[...]
        var head: String
        if let start = range, !ignoresRange {
            guard start < file.count else {
                send(fd, "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */\(file.count)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            }
            body = file[start...]
            head = "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes \(start)-\(file.count - 1)/\(file.count)\r\n"
        } else {
            head = "HTTP/1.1 200 OK\r\n"
        }
        head += "Content-Length: \(body.count)\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
        send(fd, head)
        let toSend = cut.map { body.prefix($0) } ?? body
        toSend.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { return }
                offset += n
            }
        }
    }

    private func send(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
    }
}

extension Array where Element == UInt8 {
    fileprivate var containsHeaderEnd: Bool {
        guard count >= 4 else { return false }
        for i in 0...(count - 4) where self[i] == 13 && self[i + 1] == 10 && self[i + 2] == 13 && self[i + 3] == 10 {
            return true
        }
        return false
    }
}
