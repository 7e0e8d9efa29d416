import ANNIndex
import SearchCore

/// The keyword fields an engine fills from an item. Each is a field of the
/// keyword index with its own weight there.
public enum KeywordField {
    /// The item's caption.
    public static let caption = "caption"
    /// The item's tags, joined by spaces.
    public static let tags = "tags"
    /// The item's category (not derived from an item by default; see ``KeywordDocument/init(item:pictureText:)``).
    public static let category = "category"
    /// The picture file's name without its folder (partial file names find it).
    public static let fileName = "fileName"
    /// Text found inside the picture by an ``ImageTextExtractor`` (opt-in).
    public static let pictureText = "pictureText"
}

/// One item's text, by keyword field, as the keyword index receives it.
public struct KeywordDocument: Sendable, Hashable {
    /// The item.
    public var id: VectorID
    /// Text by field name (``KeywordField``); a field absent or empty holds nothing.
    public var fields: [String: String]

    /// A document for `id`.
    public init(id: VectorID, fields: [String: String]) {
        self.id = id
        self.fields = fields
    }

    /// The document an engine derives from an item: its caption, tags and
    /// picture file name, plus `pictureText` when text was found in its
    /// picture. Not its category: categories are what folder-based
    /// judgements (`mms eval`) use as relevance, so indexing them would let
    /// keywords find an answer key rather than the item; a host that wants
    /// categories searchable passes documents with ``KeywordField/category``.
    public init(item: CatalogItem, pictureText: String? = nil) {
        var fields: [String: String] = [:]
        if let caption = item.caption, !caption.isEmpty { fields[KeywordField.caption] = caption }
        if !item.tags.isEmpty { fields[KeywordField.tags] = item.tags.joined(separator: " ") }
        if case .file(let path) = item.image, let name = path.split(separator: "/").last, !name.isEmpty {
            fields[KeywordField.fileName] = String(name)
        }
        if let pictureText, !pictureText.isEmpty { fields[KeywordField.pictureText] = pictureText }
        self.init(id: item.id, fields: fields)
    }

    /// Whether any field holds text.
    public var isEmpty: Bool { fields.values.allSatisfy(\.isEmpty) }
}

/// One keyword match: an item, its keyword score, and which query terms it
/// matched in which field.
public struct KeywordHit: Sendable, Hashable {
    /// The item.
    public var id: VectorID
    /// The keyword score (BM25 summed over fields with their weights); larger is better.
    public var score: Double
    /// The query's terms (as analysed) the item matched, by field.
    public var matchedTerms: [String: [String]]

    /// A hit.
    public init(id: VectorID, score: Double, matchedTerms: [String: [String]] = [:]) {
        self.id = id
        self.score = score
        self.matchedTerms = matchedTerms
    }
}

/// The keyword retriever beside the vector retrievers: an index of
/// ``KeywordDocument``s searched by query text.
///
/// A collection keeps one beside its vector fields under the same
/// checkpoint discipline: writes are durable when they return (the index's
/// own log), ``flush()`` runs at each of the collection's checkpoints, and
/// ``close()`` when the collection closes.
public protocol KeywordRetriever: Sendable {
    /// The `k` best-scoring documents `filter` allows for `query`, best first
    /// (ties by the smaller id), each with its matched terms by field.
    func search<Filter: SearchFilter>(_ query: String, k: Int, filter: Filter) throws(SearchError) -> [KeywordHit]
    /// Indexes documents, replacing any with the same id; durable when it returns.
    func add(_ documents: [KeywordDocument]) throws(SearchError)
    /// Removes documents; absent ids are ignored. Durable when it returns.
    func remove(_ ids: [VectorID]) throws(SearchError)
    /// Whether a document with this id is indexed.
    func contains(_ id: VectorID) -> Bool
    /// The number of documents.
    var count: Int { get }
    /// Writes what the index holds in memory to its durable form, so opening replays nothing.
    func flush() throws(SearchError)
    /// Closes the index's files; later writes fail.
    func close()
}

/// Opens or creates a collection's keyword index in `directory`, recovering
/// its log under `recoveryPolicy` (see ``SearchCollection/Options/keywordIndex``).
public typealias KeywordIndexFactory =
    @Sendable (_ directory: String, _ recoveryPolicy: RecoveryPolicy) throws(SearchError) -> any KeywordRetriever
