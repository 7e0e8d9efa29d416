import Foundation
import Ranking
import SearchCore

/// Names the migration from the format-1 store uses.
enum StoreMigration {
    static let legacyHeaderName = "store.json"
    static let backupFolder = "format1-backup"
    static let legacyFiles = ["items.jsonl", "captions.f32", "images.f32", "engagement.snapshot", "store.json"]
}

extension SearchCollection {
    /// Whether `directory` holds a store of the older format that has not been migrated.
    public static func holdsLegacyStore(_ directory: String) -> Bool {
        let files = CollectionFiles(directory: directory)
        return files.exists(StoreMigration.legacyHeaderName)
    }

    /// Migrates a format-1 store (`store.json`, `items.jsonl`,
    /// `captions.f32`, `images.f32`, `engagement.snapshot`) in `directory`
    /// into a collection in the same directory, once: items, their stored
    /// embeddings and engagement are copied (nothing is re-encoded), then the
    /// old files are moved into `format1-backup/` — `store.json` last, which
    /// is the commit point. An interrupted migration starts again from the
    /// old files the next time.
    ///
    /// The schema's `caption` field (and `image` field, when the store has
    /// pictures) must name the encoders the store was built with.
    ///
    /// - Returns: the number of items migrated.
    /// - Throws: ``SearchCore/SearchError`` `.invalidArgument` when the
    ///   schema's encoders differ from the store's, and what reading the
    ///   store or writing the collection throws.
    @discardableResult
    public static func migrate(legacyStore directory: String, schema: CollectionSchema, options: Options = Options())
        throws(SearchError) -> Int
    {
        let files = CollectionFiles(directory: directory)
        guard files.exists(StoreMigration.legacyHeaderName) else {
            throw SearchError(.notFound, "\(directory) holds no format-1 store (no store.json)")
        }
        // An interrupted migration starts again: legacy files it had moved come back
        // (store.json, moved last, is still here), and the collection it began goes (below).
        let backup = files.path(StoreMigration.backupFolder)
        for name in StoreMigration.legacyFiles
        where !files.exists(name) && FileManager.default.fileExists(atPath: backup + "/" + name) {
            do { try FileManager.default.moveItem(atPath: backup + "/" + name, toPath: files.path(name)) } catch {
                throw SearchError(.io, "cannot restore \(name) from \(backup) after an interrupted migration: \(error)")
            }
        }
        let store: SearchStore
        let entries: [(record: SearchStore.Record, caption: [Float]?, image: [Float]?)]
        do {
            store = try SearchStore.existing(at: URL(fileURLWithPath: directory))
            entries = try store.load()
        } catch let error as SearchError {
            throw error
        } catch {
            throw SearchError(.io, "cannot read the store in \(directory): \(error)")
        }
        let caption = schema.field(VectorField.caption)
        let image = schema.field(VectorField.image)
        guard caption?.encoder == store.textEncoder, caption?.dimension == store.textDimension,
            store.imageEncoder == nil || (image?.encoder == store.imageEncoder && image?.dimension == store.imageDimension)
        else {
            throw SearchError(
                .invalidArgument,
                "\(directory) was built with text encoder \(store.textEncoder) (\(store.textDimension)) and image encoder \(store.imageEncoder ?? "none"); the schema asks for \(caption.map { "\($0.encoder) (\($0.dimension))" } ?? "no caption field") and \(image.map { "\($0.encoder) (\($0.dimension))" } ?? "no image field"). Migrate with the encoders it was built with; to change encoders, index the pictures again into a new directory."
            )
        }
        // A collection left by an interrupted migration is started again.
        for name in files.list() where CollectionFiles.isCollectionFile(name) {
            do { try FileManager.default.removeItem(atPath: files.path(name)) } catch {
                throw SearchError(.io, "cannot clear \(files.path(name)) left by an interrupted migration: \(error)")
            }
        }
        let collection = try SearchCollection(directory: directory, schema: schema, options: options, allowingLegacyStore: true)
        var start = 0
        while start < entries.count {
            let batch = entries[start..<min(start + 1_000, entries.count)]
            var items: [CatalogItem] = []
            var captions = FieldRows(ids: [], rows: [])
            var pictures = FieldRows(ids: [], rows: [])
            for (record, captionVector, imageVector) in batch {
                var metadata = record.metadata
                let category = metadata.removeValue(forKey: "category")
                let id = VectorID(record.id)
                items.append(
                    CatalogItem(id: id, caption: record.caption, image: record.path.map(ImageSource.file), category: category, metadata: metadata))
                if let v = captionVector {
                    captions.ids.append(id)
                    captions.rows += v
                }
                if let v = imageVector {
                    pictures.ids.append(id)
                    pictures.rows += v
                }
            }
            var vectors = [VectorField.caption: captions]
            if image != nil { vectors[VectorField.image] = pictures }
            try collection.add(items, vectors: vectors)
            start += batch.count
        }
        if files.exists("engagement.snapshot") {
            try collection.engagement.replaceContents(
                withSnapshot: try files.read("engagement.snapshot"), source: files.path("engagement.snapshot"))
        }
        try collection.checkpoint()
        try collection.close()
        do {
            try FileManager.default.createDirectory(atPath: backup, withIntermediateDirectories: true)
            for name in StoreMigration.legacyFiles where files.exists(name) {
                try? FileManager.default.removeItem(atPath: backup + "/" + name)  // a copy from an earlier, interrupted attempt
                try FileManager.default.moveItem(atPath: files.path(name), toPath: backup + "/" + name)
            }
        } catch {
            throw SearchError(.io, "cannot move the format-1 files of \(directory) into \(backup): \(error)")
        }
        return entries.count
    }
}
