import Dispatch
import ImageDecoding
import MultimodalSearch
import SearchCore
import Synchronization

/// Turns query texts and pictures into embeddings for
/// ``MultimodalSearch/SearchQuery/embeddings``: texts through an LRU of
/// recent query embeddings, pictures through the engine's content-hash
/// cache, and what misses both through a ``MicroBatcher`` per encoder (or
/// alone, with batching off).
final class QueryEmbedder: Sendable {
    /// Whether a text's embedding came from the cache.
    enum CacheOutcome: String, Sendable {
        case hit, miss, off
    }

    let engine: SearchEngine
    let metrics: ServiceMetrics
    let cache: QueryEmbeddingCache?
    let decoding: DecodingOptions
    private let texts: MicroBatcher<String, [String: [Float]]>
    private let pictures: MicroBatcher<RGBImage, [Float]>?
    private let batching: Bool
    private let counts = Counts()

    init(engine: SearchEngine, configuration: ServiceConfiguration, metrics: ServiceMetrics) {
        self.engine = engine
        self.metrics = metrics
        batching = configuration.batching
        cache = configuration.queryCache ? QueryEmbeddingCache(capacity: configuration.queryCacheCapacity) : nil
        var limits = DecodingLimits()
        limits.maxPixels = configuration.maxPicturePixels
        limits.maxInputBytes = configuration.maxBodyBytes
        decoding = DecodingOptions(limits: limits)
        texts = MicroBatcher(
            name: "text", maxBatch: configuration.maxBatch, maxWait: configuration.maxWait, maxQueued: configuration.batchQueue,
            metrics: metrics
        ) { batch in Self.each(batch.count) { () throws(SearchError) in try engine.embedQueryTexts(batch) } single: { i throws(SearchError) in try engine.embedQueryTexts([batch[i]])[0] } }
        if engine.configuration.imageEncoder != nil {
            pictures = MicroBatcher(
                name: "image", maxBatch: configuration.maxBatch, maxWait: configuration.maxWait,
                maxQueued: configuration.batchQueue, metrics: metrics
            ) { batch in
                Self.each(batch.count) { () throws(SearchError) in try engine.embedQueryPictures(batch.map { .rgb($0) }) } single: {
                    i throws(SearchError) in try engine.embedQueryPictures([.rgb(batch[i])])[0]
                }
            }
        } else {
            pictures = nil
        }
    }

    /// Runs `all` over the whole batch; if it fails, runs each input alone
    /// so one bad input fails only its own request.
    static func each<Output>(
        _ count: Int, all: () throws(SearchError) -> [Output], single: (Int) throws(SearchError) -> Output
    ) -> [Result<Output, SearchError>] {
        do throws(SearchError) {
            return try all().map { .success($0) }
        } catch {
            if count == 1 { return [.failure(error)] }
            return (0..<count).map { i in
                do throws(SearchError) { return .success(try single(i)) } catch { return .failure(error) }
            }
        }
    }

    /// The text's embeddings by retriever, and where they came from.
    func embed(text: String, deadline: ContinuousClock.Instant) async -> Result<([String: [Float]], CacheOutcome), ServiceError> {
        let key = "\u{0}" + text
        if let cache {
            if let hit = cache.embedding(for: key), let decoded = Self.split(hit, engine: engine) {
                record(hit: true)
                return .success((decoded, .hit))
            }
            record(hit: false)
        }
        let result: Result<[String: [Float]], ServiceError>
        let engine = self.engine
        if batching {
            result = await texts.submit(text, deadline: deadline)
        } else {
            result = await Self.alone { () throws(SearchError) in try engine.embedQueryTexts([text])[0] }
        }
        if case .success(let embeddings) = result, let cache { cache.store(Self.join(embeddings), for: key) }
        return result.map { ($0, cache == nil ? .off : .miss) }
    }

    /// The picture's embedding: decoded here (with the service's limits),
    /// looked up by content hash, encoded in the next batch on a miss.
    func embed(picture bytes: [UInt8], deadline: ContinuousClock.Instant) async -> Result<[Float], ServiceError> {
        guard engine.configuration.imageEncoder != nil else {
            return .failure(.badRequest("a query by picture needs an image encoder; start the service with --clip"))
        }
        let key = EmbeddingCache.key(encoder: engine.configuration.imageEncoderName, content: bytes)
        if let hit = engine.cache.embedding(for: key) {
            metrics.pictureCacheHits.increment()
            return .success(hit)
        }
        metrics.pictureCacheMisses.increment()
        let image: RGBImage
        do throws(SearchError) {
            image = try ImageDecoder.decode(bytes, options: decoding)
        } catch {
            return .failure(ServiceError(error))
        }
        let result: Result<[Float], ServiceError>
        let engine = self.engine
        if batching, let pictures {
            result = await pictures.submit(image, deadline: deadline)
        } else {
            result = await Self.alone { () throws(SearchError) in try engine.embedQueryPictures([.rgb(image)])[0] }
        }
        if case .success(let v) = result { engine.cache.store(v, for: key) }
        return result
    }

    /// Encoder work for one request on a thread of its own (batching off).
    static func alone<Output: Sendable>(_ body: @escaping @Sendable () throws(SearchError) -> Output) async -> Result<Output, ServiceError> {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                do throws(SearchError) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(ServiceError(error)))
                }
            }
        }
    }

    // The cache holds one flat vector per text: the caption tower's
    // embedding, then the cross-modal tower's when there is one.
    private static func join(_ e: [String: [Float]]) -> [Float] {
        (e[SearchSource.caption] ?? []) + (e[SearchSource.textToImage] ?? [])
    }

    private static func split(_ v: [Float], engine: SearchEngine) -> [String: [Float]]? {
        let d = engine.configuration.textEncoder.dimension
        let c = engine.configuration.crossModalTextEncoder?.dimension ?? 0
        guard v.count == d + c else { return nil }
        var out = [SearchSource.caption: Array(v[0..<d])]
        if c > 0 { out[SearchSource.textToImage] = Array(v[d...]) }
        return out
    }

    private final class Counts: Sendable {
        let state = Mutex((hits: 0, misses: 0))
    }

    private func record(hit: Bool) {
        if hit { metrics.queryCacheHits.increment() } else { metrics.queryCacheMisses.increment() }
        let ratio = counts.state.withLock { c in
            if hit { c.hits += 1 } else { c.misses += 1 }
            return Double(c.hits) / Double(c.hits + c.misses)
        }
        metrics.queryCacheHitRatio.record(ratio)
    }

    /// Queries waiting for the text encoder.
    var textQueueDepth: Int { texts.depth }
}
