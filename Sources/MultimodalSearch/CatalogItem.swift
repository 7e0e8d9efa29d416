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

    /// A query by text, by picture, or both, for the `k` best results.
    public init(text: String? = nil, image: ImageSource? = nil, k: Int = 10, userID: String? = nil) {
        self.text = text
        self.image = image
        self.k = k
        self.userID = userID
    }
}

/// One ranked result, with the scores that put it there.
public struct SearchResult: Sendable {
    /// The item's identifier.
    public var id: VectorID
    /// The final score; larger is better.
    public var score: Double
    /// Per-stage scores: each retriever's similarity (`"caption"`, `"image"`,
    /// `"text→image"`), `"fusion"`, `"engagement"`, and what later stages add.
    public var explanation: [String: Double]
    /// The item as ingested.
    public var item: CatalogItem
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
}
