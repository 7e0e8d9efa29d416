import ANNIndex
import LexicalIndex
import SearchCore

/// The ``KeywordRetriever`` a collection keeps by default in hosts that ask
/// for keywords: a durable ``LexicalIndex/LexicalIndex`` (BM25 per field,
/// Lucene's formula, fields weighted and summed).
///
/// ```swift
/// let options = SearchCollection.Options(keywordIndex: LexicalKeywordIndex.factory())
/// let collection = try SearchCollection(directory: "/data/catalog", schema: schema, options: options)
/// ```
public final class LexicalKeywordIndex: KeywordRetriever {
    /// The fields an engine fills (``KeywordField``), with their weights:
    /// caption 1, tags 1.5, category 1, file name 1 (not stemmed, so partial
    /// names and numbers match as typed), picture text 0.5 (OCR is noisy).
    public static let fields: [LexicalField] = [
        .caption, .tags, LexicalField(name: KeywordField.category), .fileName, .pictureText,
    ]

    /// The index underneath.
    public let index: LexicalIndex

    /// Wraps an open index.
    public init(_ index: LexicalIndex) { self.index = index }

    /// Opens (or creates) a collection's keyword index with `fields` and
    /// BM25 parameters `bm25`; a log damaged past a torn tail is dropped (and
    /// kept beside it) only under `.dropDamagedRecords`.
    public static func factory(fields: [LexicalField] = fields, bm25: BM25Parameters = BM25Parameters()) -> KeywordIndexFactory {
        { directory, policy throws(SearchError) -> any KeywordRetriever in
            var options = LexicalIndex.Options()
            if case .dropDamagedRecords = policy { options.dropDamagedLogRecords = true }
            return LexicalKeywordIndex(
                try LexicalIndex(directory: directory, configuration: .init(fields: fields, bm25: bm25), options: options))
        }
    }

    public func search<Filter: SearchFilter>(_ query: String, k: Int, filter: Filter) throws(SearchError) -> [KeywordHit] {
        try index.search(LexicalQuery(parsing: query), k: k, filter: filter).map {
            KeywordHit(id: $0.id, score: Double($0.score), matchedTerms: $0.matchedTerms)
        }
    }

    public func add(_ documents: [KeywordDocument]) throws(SearchError) {
        try index.add(documents.map { (id: $0.id, fields: $0.fields) })
    }

    public func remove(_ ids: [VectorID]) throws(SearchError) {
        for id in ids { _ = try index.remove(id: id) }
    }

    public func contains(_ id: VectorID) -> Bool { index.contains(id) }

    public var count: Int { index.count }

    public func flush() throws(SearchError) { try index.flush() }

    /// Nothing to do: the index's writes are durable when they return and its
    /// files close when it is released.
    public func close() {}
}
