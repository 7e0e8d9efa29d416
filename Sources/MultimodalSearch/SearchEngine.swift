import ANNIndex
import Foundation
import ImageDecoding
import Ranking
import SearchCore
import Synchronization
import Tensor

/// The whole pipeline a host app uses when it wants all of it: encode →
/// retrieve → fuse → rank, with engagement feedback.
///
/// Built from protocol-typed parts, each replaceable: a ``TextEncoder`` for
/// captions and text queries, an optional ``ImageEncoder`` for pictures (and
/// a CLIP text tower in the same space for text → image), a ``VectorIndex``
/// per modality, a fusion method and any ``Reranker`` stages.
///
/// ```swift
/// let engine = try SearchEngine(configuration: .init(textEncoder: try BERTTextEncoder(directory: minilm)))
/// let report = try engine.ingest(items)
/// let results = try engine.search(SearchQuery(text: "a frog on a leaf", k: 10))
/// engine.record(EngagementEvent(item: results[0].id, kind: .click, time: Date()))
/// ```
///
/// Thread-safe: ingest, search and record from any number of tasks.
public final class SearchEngine: Sendable {
    /// The parts and knobs of an engine.
    public struct Configuration: Sendable {
        /// Embeds captions and text queries (caption retrieval).
        public var textEncoder: any TextEncoder
        /// A name that changes whenever the text encoder's weights do (cache keys).
        public var textEncoderName: String
        /// Embeds pictures (image retrieval); nil searches by text alone.
        public var imageEncoder: (any ImageEncoder)?
        /// A text tower in the image encoder's space (CLIP's), for text → image retrieval.
        public var crossModalTextEncoder: (any TextEncoder)?
        /// A name that changes whenever the image encoder's weights do (cache keys).
        public var imageEncoderName: String
        /// How an image becomes the image encoder's input.
        public var preprocessor: ImagePreprocessor
        /// Limits and options for decoding pictures.
        public var decoding: DecodingOptions
        /// Makes the index for one modality, given its dimension. Embeddings are
        /// L2-normalised, so inner product ranks as cosine. Default: HNSW.
        public var makeIndex: @Sendable (_ dimension: Int) throws -> any VectorIndex
        /// How retrievers' lists combine. Default: reciprocal rank fusion, k = 60.
        public var fusion: ScoreFusion
        /// How many candidates each retriever contributes before fusion.
        public var candidatesPerRetriever: Int
        /// How strongly engagement reorders results: each result's score is
        /// multiplied by exp(weight × engagement), where engagement is the
        /// item's smoothed click + 2·save − 4·hide rate above the prior's. 0 turns it off.
        public var engagementWeight: Double
        /// Stages applied after fusion and engagement, in order (diversity, rules).
        public var rerankers: [any Reranker]
        /// Texts per encoder call during ingestion.
        public var batchSize: Int

        /// A configuration: only the text encoder is required.
        public init(
            textEncoder: any TextEncoder, textEncoderName: String = "text",
            imageEncoder: (any ImageEncoder)? = nil, crossModalTextEncoder: (any TextEncoder)? = nil,
            imageEncoderName: String = "image",
            preprocessor: ImagePreprocessor = .clip, decoding: DecodingOptions = .init(),
            makeIndex: @escaping @Sendable (_ dimension: Int) throws -> any VectorIndex = { dimension in
                try HNSWIndex(dimension: dimension, metric: .innerProduct)
            },
            fusion: ScoreFusion = .reciprocalRank(), candidatesPerRetriever: Int = 100, engagementWeight: Double = 1,
            rerankers: [any Reranker] = [], batchSize: Int = 32
        ) {
            self.textEncoder = textEncoder
            self.textEncoderName = textEncoderName
            self.imageEncoder = imageEncoder
            self.crossModalTextEncoder = crossModalTextEncoder
            self.imageEncoderName = imageEncoderName
            self.preprocessor = preprocessor
            self.decoding = decoding
            self.makeIndex = makeIndex
            self.fusion = fusion
            self.candidatesPerRetriever = candidatesPerRetriever
            self.engagementWeight = engagementWeight
            self.rerankers = rerankers
            self.batchSize = batchSize
        }
    }

    /// The engine's parts.
    public let configuration: Configuration
    /// Engagement events recorded through ``record(_:)``, read by ranking.
    public let engagement: EngagementStore
    /// Embeddings by content hash.
    public let cache: EmbeddingCache
    /// The caption index (text encoder space).
    public let captionIndex: any VectorIndex
    /// The picture index (image encoder space), when there is an image encoder.
    public let imageIndex: (any VectorIndex)?
    private let items = Mutex<[VectorID: CatalogItem]>([:])

    /// Builds an engine; its indices start empty.
    ///
    /// - Throws: ``SearchError`` when the cross-modal text tower's dimension
    ///   differs from the image encoder's, or the index cannot be made.
    public init(
        configuration: Configuration, engagement: EngagementStore = EngagementStore(),
        cache: EmbeddingCache = EmbeddingCache()
    ) throws {
        guard configuration.batchSize > 0, configuration.candidatesPerRetriever > 0 else {
            throw SearchError(.invalidArgument, "batch size and candidates per retriever must be positive")
        }
        if let cross = configuration.crossModalTextEncoder {
            guard let image = configuration.imageEncoder, image.dimension == cross.dimension else {
                throw SearchError(
                    .dimensionMismatch,
                    "text → image retrieval needs an image encoder of the cross-modal text tower's dimension (\(cross.dimension))")
            }
        }
        self.configuration = configuration
        self.engagement = engagement
        self.cache = cache
        captionIndex = try configuration.makeIndex(configuration.textEncoder.dimension)
        imageIndex = try configuration.imageEncoder.map { try configuration.makeIndex($0.dimension) }
    }

    /// The number of searchable items.
    public var count: Int { items.withLock { $0.count } }

    /// The item with this identifier, if ingested.
    public func item(_ id: VectorID) -> CatalogItem? { items.withLock { $0[id] } }

    // MARK: - Ingestion

    /// Encodes and indexes items; re-ingesting an identifier replaces it.
    ///
    /// An item whose picture cannot be read or decoded is skipped (listed in
    /// the report with the reason), as is one with neither caption nor
    /// picture; the rest are indexed. Captions are encoded in batches, and
    /// content already embedded (same bytes, same encoder) comes from the cache.
    public func ingest(_ batch: [CatalogItem]) throws -> IngestReport {
        var report = IngestReport()
        var accepted: [CatalogItem] = []
        var imageVectors: [VectorID: [Float]] = [:]
        for item in batch {
            guard item.caption != nil || item.image != nil else {
                report.skipped.append((item.id, SearchError(.invalidArgument, "item \(item.id) has neither a caption nor a picture")))
                continue
            }
            if let source = item.image {
                do {
                    if let vector = try imageEmbedding(source, report: &report) { imageVectors[item.id] = vector }
                } catch let error as SearchError {
                    report.skipped.append((item.id, error))
                    continue
                }
            }
            accepted.append(item)
        }
        let captioned = accepted.filter { $0.caption != nil }
        let captionVectors = try textEmbeddings(
            captioned.map { $0.caption! }, encoder: configuration.textEncoder, name: configuration.textEncoderName,
            report: &report)
        let dimension = configuration.textEncoder.dimension
        if !captioned.isEmpty {
            try captionIndex.add(captionVectors, ids: captioned.map(\.id))
        }
        if let imageIndex, !imageVectors.isEmpty {
            let ids = accepted.map(\.id).filter { imageVectors[$0] != nil }
            try imageIndex.add(ids.flatMap { imageVectors[$0]! }, ids: ids)
        }
        // Items re-ingested without a caption (or picture) must not keep the old one.
        let uncaptioned = accepted.filter { $0.caption == nil }.map(\.id)
        if !uncaptioned.isEmpty { try captionIndex.remove(uncaptioned) }
        if let imageIndex {
            let pictureless = accepted.map(\.id).filter { imageVectors[$0] == nil }
            if !pictureless.isEmpty { try imageIndex.remove(pictureless) }
        }
        items.withLock { all in
            for item in accepted { all[item.id] = item }
        }
        report.indexed = accepted.map(\.id)
        for (i, item) in captioned.enumerated() {
            report.captionEmbeddings[item.id] = Array(captionVectors[(i * dimension)..<((i + 1) * dimension)])
        }
        report.imageEmbeddings = imageVectors
        return report
    }

    /// Adds an item whose embeddings were computed before (by ``ingest(_:)``,
    /// whose report carries them, in an earlier run): nothing is encoded.
    ///
    /// - Throws: ``SearchError`` for embeddings of the wrong dimension, or
    ///   non-finite ones.
    public func insert(_ item: CatalogItem, captionEmbedding: [Float]?, imageEmbedding: [Float]?) throws {
        if var v = captionEmbedding {
            try SearchError.checkDimension(v.count, expected: configuration.textEncoder.dimension, "the caption embedding")
            try Self.normalize(&v, what: "the caption embedding of item \(item.id)")
            try captionIndex.add(v, id: item.id)
        }
        if var v = imageEmbedding, let imageIndex {
            try SearchError.checkDimension(v.count, expected: imageIndex.dimension, "the image embedding")
            try Self.normalize(&v, what: "the image embedding of item \(item.id)")
            try imageIndex.add(v, id: item.id)
        }
        items.withLock { $0[item.id] = item }
    }

    /// Removes items; returns how many were present.
    @discardableResult
    public func remove(_ ids: [VectorID]) throws -> Int {
        try captionIndex.remove(ids)
        try imageIndex?.remove(ids)
        return items.withLock { all in ids.reduce(0) { $0 + (all.removeValue(forKey: $1) == nil ? 0 : 1) } }
    }

    /// Unit-length embeddings of `texts`, end to end, through the cache.
    func textEmbeddings(
        _ texts: [String], encoder: any TextEncoder, name: String, report: inout IngestReport
    ) throws -> [Float] {
        let d = encoder.dimension
        var out = [Float](repeating: 0, count: texts.count * d)
        var missing: [Int] = []
        for (i, text) in texts.enumerated() {
            if let hit = cache.embedding(for: EmbeddingCache.key(encoder: name, content: text.utf8)) {
                out.replaceSubrange((i * d)..<((i + 1) * d), with: hit)
                report.cacheHits += 1
            } else {
                missing.append(i)
            }
        }
        var start = 0
        while start < missing.count {
            let chunk = Array(missing[start..<min(start + configuration.batchSize, missing.count)])
            var vectors = [Float](repeating: 0, count: chunk.count * d)
            try vectors.withUnsafeMutableBufferPointer { try encoder.embed(texts: chunk.map { texts[$0] }, into: $0) }
            for (j, i) in chunk.enumerated() {
                var v = Array(vectors[(j * d)..<((j + 1) * d)])
                try Self.normalize(&v, what: "the embedding of \"\(texts[i].prefix(40))\"")
                cache.store(v, for: EmbeddingCache.key(encoder: name, content: texts[i].utf8))
                out.replaceSubrange((i * d)..<((i + 1) * d), with: v)
            }
            start += chunk.count
        }
        return out
    }

    /// Reads and decodes a picture (so an unreadable one is caught even
    /// without an image encoder) and, with an image encoder, embeds it.
    func imageEmbedding(_ source: ImageSource, report: inout IngestReport) throws -> [Float]? {
        let image: RGBImage
        var key: String?
        if case .pixels(let pixels) = source {
            image = pixels
        } else {
            let bytes = try Self.encodedBytes(source)
            key = EmbeddingCache.key(encoder: configuration.imageEncoderName, content: bytes)
            if let key, configuration.imageEncoder != nil, let hit = cache.embedding(for: key) {
                report.cacheHits += 1
                return hit
            }
            image = try ImageDecoder.decode(bytes, options: decodingOptions)
        }
        guard let encoder = configuration.imageEncoder else { return nil }
        let prep = configuration.preprocessor
        var input = [Float](repeating: 0, count: prep.outputCount)
        try input.withUnsafeMutableBufferPointer { try prep.preprocess(image, into: $0) }
        var vector = [Float](repeating: 0, count: encoder.dimension)
        try vector.withUnsafeMutableBufferPointer {
            try encoder.embed(images: [.preprocessed(input, width: prep.cropWidth, height: prep.cropHeight)], into: $0)
        }
        try Self.normalize(&vector, what: "an image embedding")
        if let key { cache.store(vector, for: key) }
        return vector
    }

    /// The file bytes of a file or encoded source (pixels have none).
    private static func encodedBytes(_ source: ImageSource) throws -> [UInt8] {
        switch source {
        case .file(let path):
            do {
                return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                throw SearchError(.io, "cannot read \(path)", underlying: SendableDescription(error))
            }
        case .encoded(let bytes):
            return bytes
        case .pixels:
            return []
        }
    }

    private var decodingOptions: DecodingOptions {
        var options = configuration.decoding
        if options.minimumShortSide == nil, let headroom = configuration.preprocessor.dctHeadroom,
            configuration.imageEncoder != nil
        {
            options.minimumShortSide = Int((headroom * Double(configuration.preprocessor.shortSide)).rounded(.up))
        }
        return options
    }

    static func normalize(_ v: inout [Float], what: String) throws(SearchError) {
        let norm = v.withUnsafeMutableBufferPointer { VectorMath.l2Normalize($0) }
        guard norm > 0, norm.isFinite else {
            throw SearchError(.invalidVector, "\(what) is zero or not finite; it cannot be searched")
        }
    }

    // MARK: - Search

    /// Searches by text, by picture, or both, among items `filter` allows.
    ///
    /// Each available retriever (caption, picture, text → picture) proposes
    /// ``Configuration/candidatesPerRetriever`` candidates; their lists are
    /// fused, engagement reorders them, the configured rerankers run, and the
    /// top `query.k` come back with every stage's score in `explanation`.
    /// Items the searching user hid never come back to that user.
    ///
    /// - Throws: ``SearchError`` for `k <= 0`, a query with neither text nor
    ///   picture, or an unreadable query picture.
    public func search<Filter: SearchFilter>(_ query: SearchQuery, filter: Filter) throws -> [SearchResult] {
        guard query.k > 0 else { throw SearchError(.invalidArgument, "k must be at least 1, got \(query.k)") }
        guard query.text != nil || query.image != nil else {
            throw SearchError(.invalidArgument, "a query needs text, a picture, or both")
        }
        var candidates = CandidateSet()
        let n = configuration.candidatesPerRetriever
        var scratch = IngestReport()
        if let text = query.text, captionIndex.count > 0 {
            let q = try textEmbeddings(
                [text], encoder: configuration.textEncoder, name: configuration.textEncoderName, report: &scratch)
            try candidates.add(source: "caption", hits: try captionIndex.search(q, k: n, filter: filter), metric: .innerProduct)
        }
        if let text = query.text, let cross = configuration.crossModalTextEncoder, let imageIndex, imageIndex.count > 0 {
            let q = try textEmbeddings([text], encoder: cross, name: configuration.imageEncoderName + "/text", report: &scratch)
            try candidates.add(source: "text→image", hits: try imageIndex.search(q, k: n, filter: filter), metric: .innerProduct)
        }
        if let picture = query.image, let imageIndex, imageIndex.count > 0,
            let q = try imageEmbedding(picture, report: &scratch)
        {
            try candidates.add(source: "image", hits: try imageIndex.search(q, k: n, filter: filter), metric: .innerProduct)
        }
        var ranked = candidates.fused(configuration.fusion)
        let now = Date()
        let user = query.userID.map(UserID.init)
        if configuration.engagementWeight != 0 || user != nil {
            ranked = applyEngagement(ranked, user: user, now: now)
        }
        let context = RankingContext(userID: query.userID, now: now)
        for stage in configuration.rerankers { ranked = try stage.rerank(ranked, context: context) }
        let known = items.withLock { all in ranked.prefix(query.k).compactMap { c in all[c.id].map { (c, $0) } } }
        return known.map { SearchResult(id: $0.0.id, score: $0.0.score, explanation: $0.0.explanation, item: $0.1) }
    }

    /// Searches without a filter.
    public func search(_ query: SearchQuery) throws -> [SearchResult] { try search(query, filter: NoFilter()) }

    /// Multiplies each fused score by exp(weight × engagement) and drops what
    /// the user hid; re-sorts.
    private func applyEngagement(_ candidates: [RankedCandidate], user: UserID?, now: Date) -> [RankedCandidate] {
        let priors = engagement.priors
        let baseline = priors.click.mean + 2 * priors.save.mean - 4 * priors.hide.mean
        let rates = engagement.rates(items: candidates.map(\.id), at: now)
        var out: [RankedCandidate] = []
        out.reserveCapacity(candidates.count)
        for (candidate, r) in zip(candidates, rates) {
            if let user, engagement.counts(user: user, item: candidate.id, at: now)[.hide] > 0 { continue }
            var c = candidate
            let lift = (r.click + 2 * r.save - 4 * r.hide) - baseline
            c.explanation["engagement"] = lift
            c.score *= Foundation.exp(configuration.engagementWeight * lift)
            out.append(c)
        }
        out.sort { $0.score > $1.score || ($0.score == $1.score && $0.id < $1.id) }
        return out
    }

    // MARK: - Feedback

    /// Records what a person did with a result; the next search ranks with it.
    public func record(_ event: EngagementEvent) { engagement.record(event) }

    /// Records impressions for the results a person was shown.
    public func recordImpressions(_ results: [SearchResult], user: String? = nil, at time: Date = Date()) {
        engagement.record(results.map { EngagementEvent(item: $0.id, user: user.map(UserID.init), kind: .impression, time: time) })
    }
}

/// An error from another layer, kept as a description so it can travel as a
/// `Sendable` underlying cause.
struct SendableDescription: Error, Sendable, CustomStringConvertible {
    var description: String
    init(_ error: any Error) { description = "\(error)" }
}
