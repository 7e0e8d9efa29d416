import ArgumentParser
import Foundation
import Logging
import SearchService

/// `mms serve --store <dir>`: the collection as an HTTP search service.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a store over HTTP: search, add and delete items, events, metrics, a search page.",
        discussion: """
            Binds 127.0.0.1 unless --host says otherwise and prints `listening on http://HOST:PORT` once it
            accepts connections. Writes need an API key (--api-key or $MMS_API_KEYS, comma-separated).
            SIGTERM or SIGINT drains requests in flight, then checkpoints and closes the store.
            The API: GET /openapi.json.
            """)

    @OptionGroup var options: StoreOptions

    @Option(help: "The address to bind.")
    var host = "127.0.0.1"

    @Option(help: "The port; 0 picks a free one (printed at start).")
    var port = 8080

    @Option(help: "A key that authorises writes (repeatable); also $MMS_API_KEYS, comma-separated. Without any, writes are refused.")
    var apiKey: [String] = []

    @Option(help: "A folder whose files GET /v1/items/{id}/picture may serve, besides the store's own pictures/ (repeatable).")
    var pictureRoot: [String] = []

    @Flag(help: "Encode each query alone instead of coalescing concurrent queries into batches.")
    var noBatching = false

    @Option(help: "The most queries one encoder pass takes.")
    var maxBatch = 32

    @Option(help: "How long (ms) the first query of a batch waits for company when the encoder is idle.")
    var maxWaitMs = 2.0

    @Option(help: "The most queries waiting for an encoder; more get 503.")
    var batchQueue = 512

    @Flag(help: "Do not keep the embeddings of recent query texts.")
    var noQueryCache = false

    @Option(help: "How many query embeddings the cache keeps.")
    var queryCache = 1_024

    @Option(help: "Requests worked on at once (more than one encoder batch only makes each request slower).")
    var maxConcurrent = 32

    @Option(help: "Requests that may wait for a turn; more get 503 with Retry-After.")
    var maxQueued = 256

    @Option(help: "The longest wait for a turn (ms; 0: until the deadline). Requests expected to wait longer get 503 at once.")
    var maxQueueWaitMs = 150

    @Option(help: "A request's deadline (ms) from arrival; past it, it is answered 503.")
    var deadlineMs = 2_000

    @Option(help: "The largest request body (bytes).")
    var maxBodyBytes = 16 << 20

    @Option(help: "The most pixels a picture may decode to.")
    var maxPicturePixels = 40_000_000

    @Option(help: "Send CORS headers allowing this origin (off unless given).")
    var corsOrigin: String?

    @Option(help: "Serve this HTML file at / instead of the built-in search page.")
    var page: String?

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0…65535") }
        guard maxBatch >= 1, batchQueue >= 1, queryCache >= 1, maxConcurrent >= 1, maxQueued >= 0, maxQueueWaitMs >= 0 else {
            throw ValidationError("--max-batch, --batch-queue, --query-cache and --max-concurrent must be at least 1, --max-queued and --max-queue-wait-ms at least 0")
        }
        guard maxWaitMs >= 0, maxWaitMs.isFinite, deadlineMs >= 1, maxBodyBytes >= 1024, maxPicturePixels >= 1 else {
            throw ValidationError("--max-wait-ms must be ≥ 0, --deadline-ms ≥ 1, --max-body-bytes ≥ 1024, --max-picture-pixels ≥ 1")
        }
    }

    func run() async throws {
        var keys = apiKey
        if let env = ProcessInfo.processInfo.environment["MMS_API_KEYS"] {
            keys += env.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        var html = SearchPage.html
        if let page {
            guard let text = try? String(contentsOfFile: page, encoding: .utf8) else { throw ValidationError("cannot read --page \(page)") }
            html = text
        }
        let configuration = ServiceConfiguration(
            host: host, port: port, apiKeys: keys, pictureRoots: pictureRoot, batching: !noBatching, maxBatch: maxBatch,
            maxWait: .microseconds(Int64(maxWaitMs * 1000)), batchQueue: batchQueue, queryCache: !noQueryCache,
            queryCacheCapacity: queryCache, maxConcurrent: maxConcurrent, maxQueued: maxQueued,
            maxQueueWait: maxQueueWaitMs > 0 ? .milliseconds(maxQueueWaitMs) : nil, deadline: .milliseconds(deadlineMs),
            maxBodyBytes: maxBodyBytes, maxPicturePixels: maxPicturePixels, corsOrigin: corsOrigin, page: html)
        LoggingSystem.bootstrap(StreamLogHandler.standardError)  // stdout carries only the "listening" line
        let (engine, collection) = try await options.open()
        if keys.isEmpty {
            FileHandle.standardError.write(Data("note: no API key given (--api-key or $MMS_API_KEYS); writes will be refused\n".utf8))
        }
        let service = SearchService(engine: engine, collection: collection, configuration: configuration)
        let host = self.host
        try await service.run { port in
            print("listening on http://\(host):\(port)")
            fflush(nil)
        }
    }
}
