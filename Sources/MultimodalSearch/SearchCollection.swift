import ANNIndex
import Foundation
import Ranking
import SearchCore
import Synchronization

/// A durable collection: items, one vector index per field, a keyword
/// index, relevance calibration and engagement,
/// in one directory, opened in milliseconds with no graph rebuild.
///
/// Layout:
///
/// | file | what |
/// | --- | --- |
/// | `schema.json` | the vector fields: name, encoder name, dimension, metric (``CollectionSchema``) |
/// | `items-G.snapshot` | every item at checkpoint G (``ItemSnapshot``: checksummed, read whole, decoded item by item) |
/// | `engagement-G.snapshot` | the engagement store at checkpoint G (checksummed) |
/// | `log-G.wal` | items written and removed and engagement recorded since checkpoint G (a ``ANNIndex/WriteAheadLog``) |
/// | `vectors/NAME/` | one ``ANNIndex/PersistentIndex`` per vector field: mapped segments plus a logged head |
/// | `keywords/` | the keyword index (``KeywordRetriever``), when ``Options/keywordIndex`` makes one; a collection opened with one for the first time indexes its items' text then |
/// | `calibration.json` | score → probability of relevance per retriever (``RelevanceCalibration``), once set |
/// | `last-recovery.txt` | the last ``CollectionRecovery`` that repaired anything |
///
/// **Durability.** Every write returns once it is on disk: items are logged
/// first, then their vectors are added to the field indices (each durable in
/// its own log). A crash between the two leaves items whose vectors did not
/// all arrive; opening finds them (only items logged since the checkpoint are
/// checked) and removes every item of that write, listed in ``recovery``:
/// such a write never returned, so nothing acknowledged is lost — except
/// that an interrupted write that *replaced* items removes them rather than
/// bringing back their earlier version (still listed in the report).
/// Removals are logged first, then applied to the indices, and re-applied
/// on replay.
///
/// The keyword index is written after the vector indices, durable in its own
/// log; an item written since the checkpoint whose text should be in it
/// (caption, tags or file name) but is not was interrupted the
/// same way and is removed the same way.
///
/// **Checkpoints** bound what opening replays: ``checkpoint()`` flushes every
/// index's head to a segment (the keyword index's too), writes `items-(G+1)` and `engagement-(G+1)`
/// and starts `log-(G+1)`; the item snapshot, renamed into place last, is the
/// commit point. One runs by itself when the log passes
/// ``Options/checkpointLogBytes``, and ``close()`` runs one.
///
/// ```swift
/// let schema = CollectionSchema(fields: [VectorField(name: "caption", encoder: "bert:all-MiniLM-L6-v2", dimension: 384)])
/// let collection = try SearchCollection(directory: "/data/catalog", schema: schema)
/// try collection.add([CatalogItem(id: 1, caption: "a red bicycle")], vectors: ["caption": FieldRows(ids: [1], rows: v)])
/// let hits = try collection.index("caption")!.search(v, k: 10)
/// try collection.close()
/// ```
public final class SearchCollection: Sendable {
    /// Knobs for opening a collection.
    public struct Options: Sendable {
        /// The graph and encoding of every field's index (see ``ANNIndex/HNSWIndex/Configuration``).
        public var index: HNSWIndex.Configuration
        /// Vectors a field's in-memory head holds before it is written as a
        /// segment; bounds what opening after a crash re-inserts. Default 10,000.
        public var headVectors: Int
        /// Log bytes past which a write runs a checkpoint. Default 16 MiB.
        public var checkpointLogBytes: Int
        /// How much of each segment is checked when opening: `.structure`
        /// (the default, milliseconds whatever the size; codes are checked by
        /// ``verify()``) or `.full` (every byte first).
        public var verification: SegmentReader.Verification
        /// What opening does with damage to a log (the collection's and each
        /// field's): `.repairTornTail` (the default) cuts only an interrupted
        /// write's bytes and refuses damage with an error naming the file and
        /// offset; `.dropDamagedRecords` drops a damaged record and what follows
        /// (kept beside the log, reported); `.strict` refuses any damage.
        public var recoveryPolicy: RecoveryPolicy
        /// The engagement store's half-life and limits.
        public var engagement: EngagementStore.Configuration
        /// Opens (or creates) the keyword index in the directory it is given
        /// (`keywords/` inside the collection), with the collection's recovery
        /// policy; nil keeps no keyword index.
        public var keywordIndex: KeywordIndexFactory?

        /// Options with the defaults above.
        public init(
            index: HNSWIndex.Configuration = HNSWIndex.Configuration(), headVectors: Int = 10_000,
            checkpointLogBytes: Int = 16 << 20, verification: SegmentReader.Verification = .structure,
            recoveryPolicy: RecoveryPolicy = .repairTornTail,
            engagement: EngagementStore.Configuration = EngagementStore.Configuration(),
            keywordIndex: KeywordIndexFactory? = nil
        ) {
            self.keywordIndex = keywordIndex
            self.recoveryPolicy = recoveryPolicy
            self.index = index
            self.headVectors = headVectors
            self.checkpointLogBytes = checkpointLogBytes
            self.verification = verification
            self.engagement = engagement
        }
    }

    /// The directory.
    public let directory: String
    /// The vector fields.
    public let schema: CollectionSchema
    /// The options it was opened with.
    public let options: Options
    /// Engagement recorded through ``record(_:)`` (read it; write through the collection).
    public let engagement: EngagementStore
    /// What opening found and repaired.
    public let recovery: CollectionRecovery
    /// One index per schema field, in schema order.
    let indices: [PersistentIndex]
    /// The keyword index, if the options make one.
    public let keywords: (any KeywordRetriever)?
    /// The stored relevance calibration (see ``setCalibration(_:)``).
    let storedCalibration: Mutex<RelevanceCalibration?>

    struct State {
        var generation: UInt64
        var snapshot: ItemSnapshot
        /// Items written (`some`) or removed (`nil`) since the snapshot.
        var overlay: [VectorID: StoredItem?]
        var count: Int
        var log: WriteAheadLog
        /// Whether anything was written since the checkpoint.
        var dirty: Bool
        var closed = false
    }

    let state: Mutex<State>
    /// Serialises writers (a write holds it across the log and the indices;
    /// readers take only ``state``, briefly).
    let writer = Mutex(())

    /// Opens the collection in `directory`, creating it with `schema` when
    /// the directory holds none, and recovers (see ``recovery``).
    ///
    /// - Throws: ``SearchCore/SearchError`` — `.invalidArgument` when the
    ///   stored schema differs from `schema` (the message says how to
    ///   re-embed) or `directory` holds a store of the older format (the
    ///   message says how to migrate); `.corruptData` naming the file and
    ///   offset for damage; `.io` when a file cannot be read or written.
    public convenience init(directory: String, schema: CollectionSchema, options: Options = Options()) throws(SearchError) {
        try self.init(directory: directory, schema: schema, options: options, allowingLegacyStore: false)
    }

    init(directory: String, schema: CollectionSchema, options: Options, allowingLegacyStore: Bool) throws(SearchError) {
        try schema.validate()
        guard options.headVectors > 0, options.checkpointLogBytes > 0 else {
            throw SearchError(.invalidArgument, "headVectors and checkpointLogBytes must be positive")
        }
        let files = CollectionFiles(directory: directory)
        try files.createDirectory()
        if !allowingLegacyStore && files.exists(StoreMigration.legacyHeaderName) {
            throw SearchError(
                .invalidArgument,
                "\(directory) is a store of the older format (store.json, items.jsonl, captions.f32). Migrate it once with `SearchCollection.migrate(legacyStore:into:schema:)`, or run any `mms` command on it, which migrates it and keeps the old files in \(directory)/\(StoreMigration.backupFolder)."
            )
        }
        if files.exists(CollectionFiles.schemaName) {
            let path = files.path(CollectionFiles.schemaName)
            try CollectionSchema.decode(try files.read(CollectionFiles.schemaName), path: path).check(expected: schema, directory: directory)
        } else {
            try files.replaceAtomically(CollectionFiles.schemaName, with: try schema.encoded())
        }
        self.directory = directory
        self.schema = schema
        self.options = options

        // The checkpoint: the newest complete item snapshot, its engagement and its log.
        let generation = try files.generations(prefix: "items-", suffix: ".snapshot").max() ?? 0
        let snapshot: ItemSnapshot
        let engagement: EngagementStore
        if generation > 0 {
            let name = CollectionFiles.name("items-", generation, ".snapshot")
            snapshot = try ItemSnapshot(bytes: try files.read(name), path: files.path(name))
            engagement = try EngagementStore(
                snapshotAt: files.path(CollectionFiles.name("engagement-", generation, ".snapshot")),
                configuration: options.engagement)
        } else {
            snapshot = ItemSnapshot(emptyAt: files.path("items-000000.snapshot"))
            engagement = EngagementStore(configuration: options.engagement)
        }
        let logPath = files.path(CollectionFiles.name("log-", generation, ".wal"))
        let (log, records) = try WriteAheadLog.open(path: logPath, policy: options.recoveryPolicy)

        var indices: [PersistentIndex] = []
        for field in schema.fields {
            indices.append(
                try PersistentIndex(
                    directory: files.path("vectors/" + field.name), dimension: field.dimension, metric: field.metric,
                    configuration: options.index, flushThreshold: options.headVectors,
                    verification: options.verification, recoveryPolicy: options.recoveryPolicy))
        }
        self.indices = indices
        self.engagement = engagement
        let newKeywordIndex = options.keywordIndex != nil && !files.exists(CollectionFiles.keywordsName)
        let keywords = try options.keywordIndex.map { make throws(SearchError) in
            try make(files.path(CollectionFiles.keywordsName), options.recoveryPolicy)
        }
        self.keywords = keywords
        storedCalibration = Mutex(
            files.exists(CollectionFiles.calibrationName)
                ? try RelevanceCalibration.decode(
                    try files.read(CollectionFiles.calibrationName), path: files.path(CollectionFiles.calibrationName))
                : nil)

        // Replay the log into an overlay over the snapshot.
        var overlay: [VectorID: StoredItem?] = [:]
        var removedSinceCheckpoint = Set<VectorID>()
        var putBy: [VectorID: Int] = [:]  // the log record that last wrote each item
        for (i, payload) in records.enumerated() {
            switch try CollectionLogRecord.decode(payload, source: "\(logPath), record \(i)") {
            case .put(let items):
                for stored in items {
                    overlay[stored.item.id] = .some(stored)
                    removedSinceCheckpoint.remove(stored.item.id)
                    putBy[stored.item.id] = i
                }
            case .remove(let ids):
                for id in ids {
                    overlay[id] = .some(nil)
                    removedSinceCheckpoint.insert(id)
                }
            case .engagement(let events):
                engagement.record(events)
            }
        }
        // Removals logged before a crash may not have reached the indices: apply them again.
        for index in indices {
            let stale = removedSinceCheckpoint.filter { index.contains($0) }
            if !stale.isEmpty { try index.remove(Array(stale)) }
        }
        if let keywords {
            let stale = removedSinceCheckpoint.filter { keywords.contains($0) }
            if !stale.isEmpty { try keywords.remove(Array(stale)) }
        }
        // A write whose vectors did not all arrive was never acknowledged: remove all of its
        // items (a write is all or nothing, like the log record that holds it).
        var interruptedRecords = Set<Int>()
        for case let (id, stored?) in overlay {
            for (f, index) in indices.enumerated() where stored.vectorFields & (1 << f) != 0 && !index.contains(id) {
                interruptedRecords.insert(putBy[id]!)
                break
            }
            if let keywords, !newKeywordIndex, !KeywordDocument(item: stored.item).isEmpty, !keywords.contains(id) {
                interruptedRecords.insert(putBy[id]!)
            }
        }
        let interrupted = putBy.filter { interruptedRecords.contains($0.value) }.map(\.key).sorted()
        if !interrupted.isEmpty {
            try log.append(CollectionLogRecord.remove(interrupted).encoded())
            try log.commit()
            for id in interrupted { overlay[id] = .some(nil) }
            for index in indices {
                let present = interrupted.filter { index.contains($0) }
                if !present.isEmpty { try index.remove(present) }
            }
            if let keywords {
                let present = interrupted.filter { keywords.contains($0) }
                if !present.isEmpty { try keywords.remove(present) }
            }
        }
        // A collection opened with a keyword index for the first time: index its items' text once.
        if let keywords, newKeywordIndex {
            let documents = try Self.merge(snapshot, overlay).values.map { KeywordDocument(item: $0.item) }.filter { !$0.isEmpty }
            if !documents.isEmpty {
                try keywords.add(documents)
                try keywords.flush()
            }
        }
        var count = snapshot.count
        for (id, entry) in overlay {
            let before = snapshot.position(of: id) != nil
            count += (entry != nil ? 1 : 0) - (before ? 1 : 0)
        }
        state = Mutex(
            State(generation: generation, snapshot: snapshot, overlay: overlay, count: count, log: log, dirty: !records.isEmpty))

        let recovery = CollectionRecovery(
            openedAt: Date(), generation: generation, itemsInSnapshot: snapshot.count, logRecordsReplayed: records.count,
            logBytes: log.size, logRepairs: Self.repairs(log.recovery), interruptedItems: interrupted,
            indexRepairs: Dictionary(uniqueKeysWithValues: zip(schema.fields.map(\.name), indices.map { Self.repairs($0.recovery) })))
        try files.removeOtherGenerations(than: generation)
        if !recovery.isClean {
            try files.replaceAtomically(CollectionFiles.lastRecoveryName, with: Array((recovery.description + "\n").utf8))
        }
        self.recovery = recovery
    }

    /// What a log's recovery did, if anything.
    private static func repairs(_ report: RecoveryReport) -> [String] {
        if case .none = report.outcome { return [] }
        return [report.description]
    }

    // MARK: - Reading

    /// The number of items.
    public var count: Int { state.withLock { $0.count } }

    /// The field's index, for searching (write through the collection).
    public func index(_ field: String) -> PersistentIndex? {
        schema.fields.firstIndex { $0.name == field }.map { indices[$0] }
    }

    /// The item with this identifier, if stored.
    ///
    /// - Complexity: O(log n): a hash lookup in what was written since the
    ///   checkpoint, else a binary search of the snapshot and one item decoded.
    public func item(_ id: VectorID) throws(SearchError) -> CatalogItem? {
        try stored(id)?.item
    }

    func stored(_ id: VectorID) throws(SearchError) -> StoredItem? {
        let (snapshot, written) = state.withLock { s in (s.snapshot, s.overlay[id]) }
        if let written { return written }
        guard let position = snapshot.position(of: id) else { return nil }
        return try snapshot.item(at: position)
    }

    /// Every item, ascending id.
    ///
    /// - Complexity: O(n): every item is decoded.
    public func items() throws(SearchError) -> [CatalogItem] {
        let (snapshot, overlay) = state.withLock { s in (s.snapshot, s.overlay) }
        return try Self.merge(snapshot, overlay).values.map(\.item).sorted { $0.id < $1.id }
    }

    /// Every stored item: the snapshot's, except those written or removed
    /// since, plus those written since.
    static func merge(_ snapshot: ItemSnapshot, _ overlay: [VectorID: StoredItem?]) throws(SearchError) -> [VectorID: StoredItem] {
        var all = [VectorID: StoredItem](minimumCapacity: snapshot.count + overlay.count)
        for i in 0..<snapshot.count where overlay[snapshot.id(at: i)] == nil {
            let stored = try snapshot.item(at: i)
            all[stored.item.id] = stored
        }
        for case let (id, stored?) in overlay { all[id] = stored }
        return all
    }

    /// Checks every byte of every field's segments against its checksum
    /// (what `.full` verification does when opening).
    public func verify() throws(SearchError) {
        for index in indices { try index.verify() }
    }

    /// The collection's files and their sizes in bytes, sorted by name
    /// (a field's index counts as one entry).
    public func files() -> [(name: String, bytes: Int)] {
        let files = CollectionFiles(directory: directory)
        var out = files.list().filter { $0 != "vectors" && $0 != CollectionFiles.keywordsName }.map { (name: $0, bytes: files.size($0)) }
        for (field, index) in zip(schema.fields, indices) { out.append((name: "vectors/" + field.name, bytes: index.diskBytes)) }
        if keywords != nil {
            let folder = CollectionFiles(directory: files.path(CollectionFiles.keywordsName))
            out.append((name: CollectionFiles.keywordsName, bytes: folder.list().reduce(0) { $0 + folder.size($1) }))
        }
        return out.sorted { $0.name < $1.name }
    }
}
