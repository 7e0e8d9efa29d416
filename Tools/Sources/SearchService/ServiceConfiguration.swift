/// The knobs of a ``SearchService``: where it listens, how it batches and
/// caches encoder work, and the limits that protect it.
public struct ServiceConfiguration: Sendable {
    /// The address to bind. Default: loopback only.
    public var host: String
    /// The port; 0 picks a free one (``SearchService/run(onListening:)`` reports it).
    public var port: Int
    /// Keys that authorise writes (adding and deleting items); empty refuses every write.
    public var apiKeys: [String]
    /// Folders whose files `GET /v1/items/{id}/picture` may serve, besides the collection's own `pictures/`.
    public var pictureRoots: [String]
    /// Coalesce the encoder work of concurrent requests into batches; false encodes each request alone.
    public var batching: Bool
    /// The most queries one encoder pass takes.
    public var maxBatch: Int
    /// How long the first query of a batch waits for others when the encoder is idle.
    public var maxWait: Duration
    /// The most queries waiting for the encoder; more are refused with 503.
    public var batchQueue: Int
    /// Keep the embeddings of recent query texts (least recently used dropped first).
    public var queryCache: Bool
    /// How many query embeddings the cache keeps.
    public var queryCacheCapacity: Int
    /// Requests worked on at once (searches, writes, events).
    public var maxConcurrent: Int
    /// Requests that may wait for a turn beyond ``maxConcurrent``; more get 503 with `Retry-After`.
    public var maxQueued: Int
    /// The longest a request waits for a turn; nil: as long as its deadline allows. A request expected to wait
    /// longer (the requests ahead of it × the mean time a turn is held ÷ ``maxConcurrent``) is refused at once
    /// with 503, and one that did wait longer is refused when its turn comes, so an admitted request's latency
    /// stays near this wait plus its own work under any overload.
    public var maxQueueWait: Duration?
    /// How long a request may take from arrival; past it, it is answered 503 without further work.
    public var deadline: Duration
    /// The largest request body accepted (bytes).
    public var maxBodyBytes: Int
    /// The most pixels a query or item picture may decode to.
    public var maxPicturePixels: Int
    /// The origin allowed by CORS; nil sends no CORS headers.
    public var corsOrigin: String?
    /// The HTML served at `GET /`.
    public var page: String

    /// A configuration with the documented defaults.
    public init(
        host: String = "127.0.0.1", port: Int = 8080, apiKeys: [String] = [], pictureRoots: [String] = [],
        batching: Bool = true, maxBatch: Int = 32, maxWait: Duration = .milliseconds(2), batchQueue: Int = 512,
        queryCache: Bool = true, queryCacheCapacity: Int = 1_024, maxConcurrent: Int = 32, maxQueued: Int = 256,
        maxQueueWait: Duration? = .milliseconds(150), deadline: Duration = .seconds(2), maxBodyBytes: Int = 16 << 20, maxPicturePixels: Int = 40_000_000,
        corsOrigin: String? = nil, page: String = SearchPage.html
    ) {
        self.host = host
        self.port = port
        self.apiKeys = apiKeys
        self.pictureRoots = pictureRoots
        self.batching = batching
        self.maxBatch = maxBatch
        self.maxWait = maxWait
        self.batchQueue = batchQueue
        self.queryCache = queryCache
        self.queryCacheCapacity = queryCacheCapacity
        self.maxConcurrent = maxConcurrent
        self.maxQueued = maxQueued
        self.maxQueueWait = maxQueueWait
        self.deadline = deadline
        self.maxBodyBytes = maxBodyBytes
        self.maxPicturePixels = maxPicturePixels
        self.corsOrigin = corsOrigin
        self.page = page
    }
}
