import Foundation
import SearchCore
import StoragePrimitives
import Synchronization

/// A durable BM25 keyword index over documents with weighted text fields.
///
/// ```swift
/// let index = try LexicalIndex(
///     directory: "/data/keywords",
///     configuration: .init(fields: [.caption, .tags, .fileName, .pictureText]))
/// try index.add(id: 7, fields: ["caption": "A walnut table with brass legs", "fileName": "IMG_2041.jpg"])
/// let hits = try index.search("\"brass legs\" table", k: 10)
/// let files = try index.search("img_20*", k: 10)
/// ```
///
/// **Scoring.** Each field is scored with Lucene's BM25 (``BM25Parameters``)
/// on its own statistics (documents with the field, mean length), multiplied
/// by its weight, and the fields' scores are summed — Lucene's boolean query
/// over per-field term queries, Elasticsearch's `most_fields`. Not BM25F
/// (which pools term frequencies across fields before saturating them):
/// fields here differ in kind as much as in length (a file name, a caption,
/// noisy text read from the picture), a per-field score is exactly Lucene's
/// and so testable against a reference, and each posting list keeps its own
/// score bound, which the block-max search needs. The price: a word found in
/// several fields counts in each, unsaturated across them.
///
/// **Search.** Top-k by block-max WAND over blocks of 128 delta-coded
/// postings with per-block score bounds, exact: the same documents and
/// scores as scoring every posting. A ``SearchCore/SearchFilter`` is applied
/// while searching, so a filtered search returns exactly
/// `min(k, allowed matching documents)` hits. See ``LexicalQuery`` for
/// phrases (`"brass legs"`) and prefixes (`img_20*`).
///
/// **Storage** (one directory): immutable checksummed segments
/// (``LexicalSegmentFormat``), a log of the writes since the last flush
/// (``LexicalLog``), and a manifest (``LexicalManifest``) replaced
/// atomically. Writes are durable when they return; the head (documents
/// since the last flush) is replayed from the log on open. A flush writes
/// the head as a segment; when there are more than
/// ``Options/maximumSegments`` segments they are merged into one, dropping
/// deleted documents.
public final class LexicalIndex: Sendable {
    /// What the index stores and how it scores; fixed when the index is created.
    public struct Configuration: Sendable, Hashable, Codable {
        /// The fields, with weights and analysis. Names are unique.
        public var fields: [LexicalField]
        /// BM25's k1 and b.
        public var bm25: BM25Parameters

        /// A configuration; BM25 defaults to Lucene's.
        public init(fields: [LexicalField], bm25: BM25Parameters = BM25Parameters()) {
            self.fields = fields
            self.bm25 = bm25
        }
    }

    /// How the index behaves; may change between opens.
    public struct Options: Sendable, Hashable {
        /// Documents in the head before it is flushed to a segment.
        public var headDocuments: Int
        /// Segments kept before they are merged into one.
        public var maximumSegments: Int
        /// Whether a damaged log record (and what follows it) is dropped on
        /// open, after being copied beside the log, instead of refusing to open.
        public var dropDamagedLogRecords: Bool

        /// Options; by default the head holds 20,000 documents and up to 8 segments are kept.
        public init(headDocuments: Int = 20_000, maximumSegments: Int = 8, dropDamagedLogRecords: Bool = false) {
            self.headDocuments = headDocuments
            self.maximumSegments = maximumSegments
            self.dropDamagedLogRecords = dropDamagedLogRecords
        }
    }

    /// What opening found in the log.
    public struct Recovery: Sendable, Hashable {
        /// Records replayed into the head.
        public var recordsReplayed: Int
        /// Bytes cut from the log's end (a torn write) or dropped as damage.
        public var bytesDropped: Int
        /// Where damage began, when there was some and it was dropped.
        public var damagedAt: Int?
    }

    /// The index's directory.
    public let directory: String
    /// Its fields and BM25 parameters.
    public let configuration: Configuration
    /// Its options.
    public let options: Options
    /// What opening replayed and dropped.
    public let recovery: Recovery

    let analyzers: [TextAnalyzer]
    let prefixAnalyzers: [TextAnalyzer]
    let fieldIndex: [String: Int]
    let state: Mutex<State>

    struct Location {
        /// Index into the segments, or −1 for the head.
        var segment: Int32
        var doc: UInt32
    }

    struct State {
        var manifest: LexicalManifest
        var segments: [LexicalSegment]
        var head: LexicalSegmentBuilder
        var headLive: [UInt8] = []
        var headSegment: LexicalSegment?
        var locations: [VectorID: Location] = [:]
        var log: LexicalLog
        /// Whether the manifest's live sets lag deletions made since it was written.
        var deletionsSinceManifest = false
        var scratch = AnalysisScratch()
    }

    /// Opens the index in `directory`, creating it (and the directory) if absent.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/invalidArgument`` when the
    ///   configuration is unusable or differs from the one the index was
    ///   created with; `.corruptData` naming the file for a damaged segment,
    ///   manifest or log (see ``Options/dropDamagedLogRecords``); `.io`.
    /// - Complexity: maps and checks every segment (O(bytes) for the
    ///   checksums), reads their identifiers, and replays the log.
    public init(directory: String, configuration: Configuration, options: Options = Options()) throws(SearchError) {
        guard !configuration.fields.isEmpty, configuration.fields.count <= 1024 else {
            throw SearchError(.invalidArgument, "a keyword index needs between 1 and 1024 fields; got \(configuration.fields.count)")
        }
        var names: [String: Int] = [:]
        for (i, field) in configuration.fields.enumerated() {
            guard names[field.name] == nil else {
                throw SearchError(.invalidArgument, "field name '\(field.name)' appears twice; field names must be unique")
            }
            guard field.weight.isFinite, field.weight >= 0 else {
                throw SearchError(.invalidArgument, "field '\(field.name)' has weight \(field.weight); weights are finite and ≥ 0")
            }
            names[field.name] = i
        }
        let k1 = configuration.bm25.k1, b = configuration.bm25.b
        guard k1.isFinite, k1 >= 0, b.isFinite, b >= 0, b <= 1 else {
            throw SearchError(.invalidArgument, "BM25 needs k1 ≥ 0 and 0 ≤ b ≤ 1; got k1 \(k1), b \(b)")
        }
        guard options.headDocuments >= 1, options.maximumSegments >= 1 else {
            throw SearchError(.invalidArgument, "headDocuments and maximumSegments must be at least 1")
        }
        var analyzers: [TextAnalyzer] = []
        var prefixAnalyzers: [TextAnalyzer] = []
        for field in configuration.fields {
            analyzers.append(try TextAnalyzer(field.analyzer))
            var unstemmed = field.analyzer
            unstemmed.language = nil
            unstemmed.stopWords = []
            prefixAnalyzers.append(try TextAnalyzer(unstemmed))
        }
        self.directory = directory
        self.configuration = configuration
        self.options = options
        self.analyzers = analyzers
        self.prefixAnalyzers = prefixAnalyzers
        fieldIndex = names
        let (state, recovery) = try Self.open(
            directory: directory, configuration: configuration, options: options, analyzers: analyzers)
        self.state = Mutex(state)
        self.recovery = recovery
    }

    /// The number of live documents.
    public var count: Int { state.withLock { $0.locations.count } }

    /// Whether a live document has this identifier.
    public func contains(_ id: VectorID) -> Bool { state.withLock { $0.locations[id] != nil } }

    /// The segment files, for inspection: name and document count.
    public var segments: [(name: String, documents: Int)] {
        state.withLock { $0.manifest.segments.map { ($0.fileName, $0.documentCount) } }
    }
}
