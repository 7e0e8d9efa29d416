import ANNIndex
import Foundation
import ImageDecoding
import Ranking
import SearchCore

/// The whole pipeline a host uses when it wants all of it: ingest (decode →
/// preprocess → batch-encode), query (embed → retrieve → fuse → rank) and
/// engagement feedback, over items kept in memory or in a durable
/// ``SearchCollection``.
///
/// Each concern has one owner: the ingest stage batches pictures and
/// captions; the image encoder owns its preprocessing; each retriever is
/// scored by its own index's metric; fusion is ``Ranking/ScoreFusion``;
/// ranking is a ``Ranking/RerankPipeline`` that starts with an
/// ``Ranking/EngagementStage``; the collection owns what is on disk.
///
/// ```swift
/// let configuration = SearchEngine.Configuration(textEncoder: try BERTTextEncoder(directory: minilm), textEncoderName: "minilm")
/// let collection = try SearchCollection(directory: "/data/catalog", schema: SearchEngine.schema(for: configuration))
/// let engine = try SearchEngine(configuration: configuration, collection: collection)
/// let report = try await engine.ingest(items)
/// let results = try await engine.search(SearchQuery(text: "a frog on a leaf", k: 10))
/// try engine.record(EngagementEvent(item: results[0].id, kind: .click, time: Date()))
/// ```
///
/// Thread-safe: ingest, search and record from any number of tasks.
public final class SearchEngine: Sendable {
    /// The parts and knobs of an engine.
    public struct Configuration: Sendable {
        /// Embeds captions and text queries (caption retrieval).
        public var textEncoder: any TextEncoder
        /// A name that changes whenever the text encoder's weights do (cache keys, the collection's schema).
        public var textEncoderName: String
        /// Embeds pictures (image retrieval) and owns their preprocessing; nil searches by text alone.
        public var imageEncoder: (any ImageEncoder)?
        /// A text tower in the image encoder's space (CLIP's), for text → image retrieval.
        public var crossModalTextEncoder: (any TextEncoder)?
        /// A name that changes whenever the image encoder's weights do.
        public var imageEncoderName: String
        /// Limits for decoding pictures that are only checked (no image encoder);
        /// an image encoder decodes with its own options.
        public var decoding: DecodingOptions
        /// Makes the index of one vector field for an engine kept in memory
        /// (a collection's indices are its own). Default: HNSW.
        public var makeIndex: @Sendable (_ field: VectorField) throws(SearchError) -> any VectorIndex
        /// How retrievers' lists combine. Default: reciprocal rank fusion, k = 60.
        public var fusion: ScoreFusion
        /// How many candidates each retriever contributes before fusion.
        public var candidatesPerRetriever: Int
        /// What each kind of engagement is worth (see ``Ranking/EngagementStage``).
        public var engagementWeights: EngagementWeights
        /// How strongly engagement reorders results: scores are multiplied by
        /// exp(strength × lift); 0 turns it off (hides still hide).
        public var engagementStrength: Double
        /// Stages applied after engagement, in order (diversity, rules, a learned ranker).
        public var rerankers: [any Reranker]
        /// Items per encoder pass during ingestion.
        public var batchSize: Int
        /// Query embeddings kept (least recently used dropped first).
        public var queryCacheCapacity: Int
        /// Makes the keyword index of an engine kept in memory (a
        /// collection's is its own, see ``SearchCollection/Options/keywordIndex``);
        /// nil keeps none. With one, text queries also retrieve by keywords
        /// (source ``SearchSource/keyword``).
        public var makeKeywordIndex: (@Sendable () throws(SearchError) -> any KeywordRetriever)?
        /// Finds text inside pictures at ingest, for the keyword field
        /// ``KeywordField/pictureText``; nil (the default) does not look.
        public var imageTextExtractor: (any ImageTextExtractor)?
        /// Score → relevance calibration for an engine kept in memory; a
        /// collection's is the one stored with it (``SearchCollection/calibration``).
        public var calibration: RelevanceCalibration?
        /// Tagging steps run at ingest on each item's picture embedding, in
        /// order (see ``ZeroShotTagging``); they need an image encoder.
        public var tagging: [ZeroShotTagging]

        /// A configuration: only the text encoder is required.
        public init(
            textEncoder: any TextEncoder, textEncoderName: String = "text",
            imageEncoder: (any ImageEncoder)? = nil, crossModalTextEncoder: (any TextEncoder)? = nil,
            imageEncoderName: String = "image", decoding: DecodingOptions = .init(),
            makeIndex: @escaping @Sendable (_ field: VectorField) throws(SearchError) -> any VectorIndex = { field in
                try HNSWIndex(dimension: field.dimension, metric: field.metric)
            },
            fusion: ScoreFusion = .reciprocalRank(), candidatesPerRetriever: Int = 100,
            engagementWeights: EngagementWeights = EngagementWeights(), engagementStrength: Double = 1,
            rerankers: [any Reranker] = [], batchSize: Int = 32, queryCacheCapacity: Int = 1_024,
            makeKeywordIndex: (@Sendable () throws(SearchError) -> any KeywordRetriever)? = nil,
            imageTextExtractor: (any ImageTextExtractor)? = nil, calibration: RelevanceCalibration? = nil,
            tagging: [ZeroShotTagging] = []
        ) {
            self.makeKeywordIndex = makeKeywordIndex
            self.imageTextExtractor = imageTextExtractor
            self.calibration = calibration
            self.textEncoder = textEncoder
            self.textEncoderName = textEncoderName
            self.imageEncoder = imageEncoder
            self.crossModalTextEncoder = crossModalTextEncoder
            self.imageEncoderName = imageEncoderName
            self.decoding = decoding
            self.makeIndex = makeIndex
            self.fusion = fusion
            self.candidatesPerRetriever = candidatesPerRetriever
            self.engagementWeights = engagementWeights
            self.engagementStrength = engagementStrength
            self.rerankers = rerankers
            self.batchSize = batchSize
            self.queryCacheCapacity = queryCacheCapacity
            self.tagging = tagging
        }
    }

    /// The engine's parts.
    public let configuration: Configuration
    /// The durable collection the engine writes to, if it was given one.
    public let collection: SearchCollection?
    /// Embeddings of catalogue content by hash (captions, picture files).
    public let cache: EmbeddingCache
    /// Embeddings of recent queries.
    public let queryCache: QueryEmbeddingCache
    let store: EngineStore
    let ingestion: IngestStage
    let query: QueryStage

    /// The vector fields an engine with `configuration` fills: `caption`
    /// (the text encoder), and `image` when there is an image encoder.
    public static func schema(for configuration: Configuration) -> CollectionSchema {
        var fields = [
            VectorField(name: VectorField.caption, encoder: configuration.textEncoderName, dimension: configuration.textEncoder.dimension)
        ]
        if let image = configuration.imageEncoder {
            fields.append(VectorField(name: VectorField.image, encoder: configuration.imageEncoderName, dimension: image.dimension))
        }
        return CollectionSchema(fields: fields)
    }

    /// An engine that keeps its items in memory; its indices start empty.
    ///
    /// - Throws: ``SearchCore/SearchError`` for a bad configuration (see
    ///   ``init(configuration:collection:cache:)``), or what `makeIndex` throws.
    public convenience init(
        configuration: Configuration, engagement: EngagementStore = EngagementStore(), cache: EmbeddingCache = EmbeddingCache()
    ) throws(SearchError) {
        try Self.validate(configuration)
        var indices: [String: any VectorIndex] = [:]
        for field in Self.schema(for: configuration).fields { indices[field.name] = try configuration.makeIndex(field) }
        let keywords = try configuration.makeKeywordIndex.map { make throws(SearchError) in try make() }
        self.init(
            configuration: configuration,
            store: .memory(MemoryCatalog(indices: indices, keywords: keywords, engagement: engagement)), collection: nil,
            cache: cache)
    }

    /// An engine over a durable collection: what it ingests, removes and
    /// records is on disk when the call returns.
    ///
    /// - Throws: ``SearchCore/SearchError`` `.invalidArgument` when the
    ///   collection's schema is not ``schema(for:)`` of `configuration`
    ///   (other encoders; the message says how to re-embed), a batch size or
    ///   candidate count below 1, a cross-modal text tower whose dimension
    ///   differs from the image encoder's, or a tagging step without an image
    ///   encoder of its classifier's dimension.
    public convenience init(configuration: Configuration, collection: SearchCollection, cache: EmbeddingCache = EmbeddingCache())
        throws(SearchError)
    {
        try Self.validate(configuration)
        try collection.schema.check(expected: Self.schema(for: configuration), directory: collection.directory)
        self.init(configuration: configuration, store: .collection(collection), collection: collection, cache: cache)
    }

    private init(configuration: Configuration, store: EngineStore, collection: SearchCollection?, cache: EmbeddingCache) {
        self.configuration = configuration
        self.collection = collection
        self.cache = cache
        self.store = store
        queryCache = QueryEmbeddingCache(capacity: configuration.queryCacheCapacity)
        ingestion = IngestStage(configuration: configuration, cache: cache)
        let engagement = EngagementStage(
            store: store.engagement, weights: configuration.engagementWeights, strength: configuration.engagementStrength)
        query = QueryStage(
            configuration: configuration, queries: queryCache, store: store,
            ranking: RerankPipeline([engagement] + configuration.rerankers))
    }

    private static func validate(_ configuration: Configuration) throws(SearchError) {
        guard configuration.batchSize > 0, configuration.candidatesPerRetriever > 0, configuration.queryCacheCapacity > 0 else {
            throw SearchError(.invalidArgument, "batch size, candidates per retriever and the query cache's capacity must be positive")
        }
        guard configuration.engagementStrength.isFinite else {
            throw SearchError(.invalidArgument, "the engagement strength must be finite, got \(configuration.engagementStrength)")
        }
        for step in configuration.tagging { try step.validate(imageDimension: configuration.imageEncoder?.dimension) }
        if let cross = configuration.crossModalTextEncoder {
            guard let image = configuration.imageEncoder, image.dimension == cross.dimension else {
                throw SearchError(
                    .dimensionMismatch,
                    "text → image retrieval needs an image encoder of the cross-modal text tower's dimension (\(cross.dimension))")
            }
        }
    }

    /// Engagement recorded through ``record(_:)``, read by ranking.
    public var engagement: EngagementStore { store.engagement }

    /// The caption index (text encoder space).
    public var captionIndex: any VectorIndex { store.index(VectorField.caption)! }

    /// The picture index (image encoder space), when there is an image encoder.
    public var imageIndex: (any VectorIndex)? { store.index(VectorField.image) }

    /// The keyword index, when the engine (or its collection) keeps one.
    public var keywordIndex: (any KeywordRetriever)? { store.keywords }

    /// The calibration relevance cut-offs use: the collection's stored one,
    /// else the configuration's.
    public var calibration: RelevanceCalibration? { collection?.calibration ?? configuration.calibration }

    /// The number of searchable items.
    public var count: Int { store.count }

    /// The item with this identifier, if ingested.
    public func item(_ id: VectorID) throws(SearchError) -> CatalogItem? { try store.item(id) }
}
