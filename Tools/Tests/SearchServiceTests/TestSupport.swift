import Foundation
import ImageDecoding
import MultimodalSearch
import SearchCore
import SearchService
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A deterministic text encoder for the service's tests: each word adds a
/// hashed direction, so texts that share words are near. It counts its
/// calls and the largest batch it saw, and can be told to stall.
final class WordHashEncoder: TextEncoder, Sendable {
    let dimension = 32
    struct Stats {
        var calls = 0
        var texts = 0
        var largestBatch = 0
    }
    let stats = Mutex(Stats())
    /// A text containing this word makes the call sleep this long.
    let stall: (word: String, seconds: Double)?

    init(stall: (word: String, seconds: Double)? = nil) { self.stall = stall }

    func embed(texts: [String], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        stats.withLock { s in
            s.calls += 1
            s.texts += texts.count
            s.largestBatch = max(s.largestBatch, texts.count)
        }
        if let stall, texts.contains(where: { $0.contains(stall.word) }) { usleep(UInt32(stall.seconds * 1_000_000)) }
        for (row, text) in texts.enumerated() {
            for j in 0..<dimension { output[row * dimension + j] = 0.01 }
            for word in text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }) {
                var h: UInt64 = 1_469_598_103_934_665_603
                for b in word.utf8 { h = (h ^ UInt64(b)) &* 1_099_511_628_211 }
                output[row * dimension + Int(h % UInt64(dimension))] += 1
            }
        }
    }
}

/// A tiny image encoder: a picture's embedding is its mean red, green and
/// blue and a constant, so differently coloured pictures are apart.
struct MeanColourEncoder: ImageEncoder {
    let dimension = 4
    let inputShape = ImageInputShape(channels: 3, height: 1, width: 1)

    func preprocess(_ image: ImageInput, into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        let rgb: RGBImage
        switch image {
        case .encoded(let bytes): rgb = try ImageDecoder.decode(bytes)
        case .rgb(let pixels): rgb = pixels
        case .preprocessed(let values, _, _):
            for i in 0..<3 { output[i] = values[i] }
            return
        @unknown default: throw SearchError(.unsupportedFormat, "the test encoder takes encoded pictures, pixels or its own preprocessing")
        }
        var sums: [Double] = [0, 0, 0]
        for (i, p) in rgb.pixels.enumerated() { sums[i % 3] += Double(p) }
        let n = Double(max(1, rgb.width * rgb.height))
        for i in 0..<3 { output[i] = Float(sums[i] / n / 255) }
    }

    func embed(preprocessed batch: UnsafeBufferPointer<Float>, count: Int, into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        for i in 0..<count {
            for j in 0..<3 { output[i * 4 + j] = batch[i * 3 + j] }
            output[i * 4 + 3] = 0.5
        }
    }

    func embed(images: [ImageInput], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        var pre = [Float](repeating: 0, count: images.count * 3)
        for (i, image) in images.enumerated() {
            try pre.withUnsafeMutableBufferPointer { (p) throws(SearchError) in
                try preprocess(image, into: UnsafeMutableBufferPointer(rebasing: p[(i * 3)..<(i * 3 + 3)]))
            }
        }
        try pre.withUnsafeBufferPointer { (p) throws(SearchError) in try embed(preprocessed: p, count: images.count, into: output) }
    }
}

/// A running service on 127.0.0.1 (a free port) over a fresh collection in a
/// temporary folder, and a way to stop it.
final class RunningService: Sendable {
    let service: SearchService
    let port: Int
    let directory: String
    let encoder: WordHashEncoder
    private let task: Task<Void, any Error>

    static let key = "test-key-0123456789"

    static func start(
        _ configure: (inout ServiceConfiguration) -> Void = { _ in }, encoder: WordHashEncoder = WordHashEncoder(),
        pictures: Bool = false, items: [CatalogItem]? = nil
    ) async throws -> RunningService {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mms-serve-\(UUID().uuidString)").path
        let configuration = SearchEngine.Configuration(
            textEncoder: encoder, textEncoderName: "word-hash", imageEncoder: pictures ? MeanColourEncoder() : nil,
            imageEncoderName: "mean-colour")
        let collection = try SearchCollection(
            directory: directory, schema: SearchEngine.schema(for: configuration),
            options: SearchCollection.Options(keywordIndex: LexicalKeywordIndex.factory()))
        let engine = try SearchEngine(configuration: configuration, collection: collection)
        _ = try await engine.ingest(items ?? Self.catalogue)
        // Tests run in parallel on a loaded machine: a deadline and a queue wait that only their own tests shorten.
        var serviceConfiguration = ServiceConfiguration(port: 0, apiKeys: [key], maxQueueWait: nil, deadline: .seconds(60))
        configure(&serviceConfiguration)
        let service = SearchService(engine: engine, collection: collection, configuration: serviceConfiguration)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let task = Task { try await service.run { port in continuation.yield(port) } }
        var port = 0
        for await p in ports {
            port = p
            break
        }
        return RunningService(service: service, port: port, directory: directory, encoder: encoder, task: task)
    }

    private init(service: SearchService, port: Int, directory: String, encoder: WordHashEncoder, task: Task<Void, any Error>) {
        self.service = service
        self.port = port
        self.directory = directory
        self.encoder = encoder
        self.task = task
    }

    static let catalogue: [CatalogItem] = [
        CatalogItem(id: 1, caption: "a green frog on a leaf", category: "animals/amphibians", tags: ["green"]),
        CatalogItem(id: 2, caption: "a red sports car", category: "vehicles", tags: ["red"]),
        CatalogItem(id: 3, caption: "a violin with four strings", category: "music", metadata: ["maker": "stradivari"]),
        CatalogItem(id: 4, caption: "a toad sitting on a rock", category: "animals/amphibians"),
        CatalogItem(id: 5, caption: "a red apple", category: "food/fruit", tags: ["red"]),
    ]

    /// Stops the service gracefully and waits for it (the collection is closed).
    func stop() async throws {
        await service.shutdown()
        try await task.value
    }

    func request(
        _ method: String, _ path: String, body: [UInt8] = [], contentType: String? = nil, headers: [String: String] = [:]
    ) async throws -> HTTPReply {
        try await HTTPReply.send(port: port, method, path, body: body, contentType: contentType, headers: headers)
    }

    func json(_ method: String, _ path: String, _ object: Any, headers: [String: String] = [:]) async throws -> HTTPReply {
        try await request(
            method, path, body: Array(try JSONSerialization.data(withJSONObject: object)), contentType: "application/json", headers: headers)
    }
}

/// One HTTP/1.1 exchange over a plain socket (`Connection: close`): the
/// status, headers (names lower-cased) and body.
struct HTTPReply: Sendable {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    var object: [String: Any] { ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]) ?? [:] }
    var errorCode: String? { (object["error"] as? [String: Any])?["code"] as? String }
    var errorMessage: String? { (object["error"] as? [String: Any])?["message"] as? String }

    static func send(
        port: Int, _ method: String, _ path: String, body: [UInt8], contentType: String?, headers: [String: String]
    ) async throws -> HTTPReply {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try exchange(port: port, method, path, body: body, contentType: contentType, headers: headers) })
            }
        }
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    static func exchange(
        port: Int, _ method: String, _ path: String, body: [UInt8], contentType: String?, headers: [String: String]
    ) throws -> HTTPReply {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect: errno \(errno)") }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        if let contentType { head += "Content-Type: \(contentType)\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let request = Array((head + "\r\n").utf8) + body
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }  // the server may answer (413) and close before reading everything
            sent += n
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        guard let split = find([13, 10, 13, 10], in: response) else {
            throw Failure(description: "no complete response head (\(response.count) bytes)")
        }
        let lines = String(decoding: response[0..<split], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw Failure(description: "bad status line \(lines[0])") }
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var payload = Array(response[(split + 4)...])
        if fields["transfer-encoding"]?.lowercased() == "chunked" { payload = dechunk(payload) }
        return HTTPReply(status: status, headers: fields, body: payload)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
        return nil
    }

    static func dechunk(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            guard let end = find([13, 10], in: Array(bytes[i...])) else { break }
            let size = Int(String(decoding: bytes[i..<(i + end)], as: UTF8.self).split(separator: ";")[0], radix: 16) ?? 0
            if size == 0 { break }
            let start = i + end + 2
            out += bytes[start..<min(bytes.count, start + size)]
            i = start + size + 2
        }
        return out
    }
}

/// The bytes of a committed test picture.
func fixture(_ name: String) throws -> [UInt8] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    return Array(try Data(contentsOf: root.appendingPathComponent("Tests/ImageDecodingTests/Fixtures/\(name)")))
}
