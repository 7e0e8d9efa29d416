import Ranking
import SearchCore

/// Where an item's picture comes from.
public enum ImageSource: Sendable, Hashable {
    /// A JPEG or PNG file on disk.
    case file(String)
    /// A JPEG or PNG file's bytes.
    case encoded([UInt8])
    /// Decoded pixels.
    case pixels(RGBImage)
}

/// One thing a host wants found: a product, a photo, a pin.
///
/// ```swift
/// let item = CatalogItem(id: 42, caption: "a red bicycle", image: .file("bike.jpg"),
///                        category: "vehicles", tags: ["red", "bicycle"], metadata: ["price": "120"])
/// ```
public struct CatalogItem: Sendable, Hashable {
    /// The host's identifier.
    public var id: VectorID
    /// Text that describes the item (a caption, a title); searched by text.
    public var caption: String?
    /// The item's picture; searched by image (and by text through a CLIP text tower).
    /// A collection stores a file's path; a picture given as bytes or pixels
    /// is embedded but not stored, and comes back nil.
    public var image: ImageSource?
    /// The item's category (a folder, a department), if any.
    public var category: String?
    /// Labels (a host's own, or written by a tagging step at ingest).
    public var tags: [String]
    /// The host's own fields, returned with every result (URL, price, file).
    public var metadata: [String: String]

    /// An item; give a caption, a picture, or both.
    public init(
        id: VectorID, caption: String? = nil, image: ImageSource? = nil, category: String? = nil, tags: [String] = [],
        metadata: [String: String] = [:]
    ) {
        self.id = id
        self.caption = caption
        self.image = image
        self.category = category
        self.tags = tags
        self.metadata = metadata
    }
}

/// What a person searches with.
public struct SearchQuery: Sendable {
    /// Query text, if any.
    public var text: String?
    /// A query picture, if any.
    public var image: ImageSource?
    /// How many results to return.
    public var k: Int
    /// The person searching, for engagement-aware ranking.
    public var userID: String?
    /// How this query's retrievers combine, with their weights; nil uses the
    /// engine's ``SearchEngine/Configuration/fusion``. A retriever weighted 0
    /// is not asked at all (`weights: [SearchSource.caption: 0]` searches by
    /// keywords alone).
    public var fusion: ScoreFusion?
    /// Per retriever (``SearchSource``), the lowest score of its own kind it
    /// may contribute: a similarity for a vector retriever (cosine in
    /// [−1, 1]), a BM25 score for the keyword retriever. Lower ones are
    /// dropped before fusion.
    public var minScores: [String: Double]
    /// The lowest calibrated probability of relevance a result may have:
    /// a candidate's is the largest its retrievers' calibrated scores give
    /// (``RelevanceCalibration``). Nil: no cut-off.
    public var minRelevance: Double?
    /// Query embeddings computed before, by retriever (``SearchSource/caption``,
    /// ``SearchSource/textToImage``, ``SearchSource/image``): a retriever with
    /// one uses it instead of encoding the text or picture. A server that
    /// batches the encoder work of concurrent requests fills it from
    /// ``SearchEngine/embedQueryTexts(_:)`` and ``SearchEngine/embedQueryPictures(_:)``.
    public var embeddings: [String: [Float]]

    /// A query by text, by picture, or both, for the `k` best results.
    public init(
        text: String? = nil, image: ImageSource? = nil, k: Int = 10, userID: String? = nil, fusion: ScoreFusion? = nil,
        minScores: [String: Double] = [:], minRelevance: Double? = nil, embeddings: [String: [Float]] = [:]
    ) {
        self.embeddings = embeddings
        self.text = text
        self.image = image
        self.k = k
        self.userID = userID
        self.fusion = fusion
        self.minScores = minScores
        self.minRelevance = minRelevance
    }
}

/// One ranked result, with the scores that put it there.
public struct SearchResult: Sendable {
    /// The item's identifier.
    public var id: VectorID
    /// The final score; larger is better.
    public var score: Double
    /// Per-stage scores: each retriever's score (`"caption"`, `"image"`,
    /// `"text→image"` similarities, `"keyword"` BM25), `"fusion"`,
    /// `"relevance"` under a calibrated cut-off, `"engagement"`, and what
    /// later stages add (keys in ``SearchSource``).
    public var explanation: [String: Double]
    /// The item as ingested.
    public var item: CatalogItem
    /// The keyword index's score, when the keyword retriever found the item.
    public var keywordScore: Double?
    /// The query terms (as the keyword index analysed them) the item
    /// matched, by keyword field (``KeywordField``); empty when the keyword
    /// retriever did not find it.
    public var matchedTerms: [String: [String]]

    /// A result.
    public init(
        id: VectorID, score: Double, explanation: [String: Double], item: CatalogItem, keywordScore: Double? = nil,
        matchedTerms: [String: [String]] = [:]
    ) {
        self.id = id
        self.score = score
        self.explanation = explanation
        self.item = item
        self.keywordScore = keywordScore
        self.matchedTerms = matchedTerms
    }
}

/// What ``SearchEngine/ingest(_:)`` did.
public struct IngestReport: Sendable {
    /// Items now searchable.
    public var indexed: [VectorID] = []
    /// Items skipped, each with the reason (an unreadable image, a failed encode).
    public var skipped: [(id: VectorID, error: SearchError)] = []
    /// Embeddings served from the cache instead of the encoder.
    public var cacheHits = 0
    /// The unit-length caption embedding of each indexed item that has a caption.
    public var captionEmbeddings: [VectorID: [Float]] = [:]
    /// The unit-length picture embedding of each indexed item, with an image encoder.
    public var imageEmbeddings: [VectorID: [Float]] = [:]
    /// Text found inside each indexed item's picture, with an image text
    /// extractor (``SearchEngine/Configuration/imageTextExtractor``); absent
    /// where none was found.
    public var pictureText: [VectorID: String] = [:]
    /// Pictures whose text could not be read (their items are indexed
    /// without it), each with the reason: a timeout or a picture too large
    /// for the extractor's bounds, for instance.
    public var pictureTextErrors: [(id: VectorID, error: SearchError)] = []
    /// The labels the configuration's tagging steps wrote into each item, with their scores.
    public var labels: [VectorID: [LabelScore]] = [:]
}
