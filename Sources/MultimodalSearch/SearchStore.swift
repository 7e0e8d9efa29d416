import Foundation
import Ranking
import SearchCore
import StoragePrimitives

/// The older on-disk store (format 1), kept so existing stores can be read
/// and migrated into a ``SearchCollection``
/// (``SearchCollection/migrate(legacyStore:schema:)``), which replaces it: a
/// format-1 store rebuilds its graphs on every open and has no checksums.
///
/// Layout (format 1), all little-endian:
///
/// | file | contents |
/// | --- | --- |
/// | `store.json` | `{"format": 1, "text_encoder": name, "text_dimension": d, "image_encoder": name or null, "image_dimension": d or null}` |
/// | `items.jsonl` | one JSON object per item, in ingestion order: `id`, `caption`, `path`, `metadata`, `has_caption`, `has_image` |
/// | `captions.f32` | one row of `text_dimension` float32 per item with `has_caption`, in item order |
/// | `images.f32` | one row of `image_dimension` float32 per item with `has_image`, in item order |
/// | `engagement.snapshot` | the engagement store's checksummed snapshot |
///
/// Appends write the vector rows, flush them to disk, then append the item
/// lines and flush those: a crash can leave rows without a line (cut off when
/// the store is next opened) or a torn last line (ignored), never a line
/// without its rows.
public final class SearchStore: Sendable {
    /// The directory.
    public let directory: URL
    /// The name of the text encoder the store was built with.
    public let textEncoder: String
    /// Its embedding dimension.
    public let textDimension: Int
    /// The name of the image encoder the store was built with, if any.
    public let imageEncoder: String?
    /// Its embedding dimension, if any.
    public let imageDimension: Int?

    private struct Header: Codable {
        var format: Int
        var text_encoder: String
        var text_dimension: Int
        var image_encoder: String?
        var image_dimension: Int?
    }

    /// One stored item.
    public struct Record: Codable, Sendable {
        /// The item identifier.
        public var id: UInt64
        /// The caption, if any.
        public var caption: String?
        /// The picture file, if any.
        public var path: String?
        /// The host metadata (category, file, ...).
        public var metadata: [String: String]
        /// Whether a caption row is stored for it in `captions.f32`.
        public var has_caption: Bool
        /// Whether a picture row is stored for it in `images.f32`.
        public var has_image: Bool

        /// A record with these fields.
        public init(
            id: UInt64, caption: String?, path: String?, metadata: [String: String], has_caption: Bool, has_image: Bool
        ) {
            self.id = id
            self.caption = caption
            self.path = path
            self.metadata = metadata
            self.has_caption = has_caption
            self.has_image = has_image
        }
    }

    /// Opens the store in `directory`, creating it for these encoders when empty.
    ///
    /// - Throws: ``SearchError`` `.invalidArgument` when the directory holds a
    ///   store made with other encoders (searching it with these would be
    ///   meaningless), `.corruptData` for an unreadable `store.json`.
    public init(
        directory: URL, textEncoder: String, textDimension: Int, imageEncoder: String? = nil, imageDimension: Int? = nil
    ) throws {
        self.directory = directory
        let fm = FileManager.default
        let headerURL = directory.appendingPathComponent("store.json")
        if fm.fileExists(atPath: headerURL.path) {
            let header: Header
            do {
                header = try JSONDecoder().decode(Header.self, from: Data(contentsOf: headerURL))
            } catch {
                throw SearchError(.corruptData, "\(headerURL.path) is not a readable store header", underlying: SendableDescription(error))
            }
            guard header.format == 1 else {
                throw SearchError(.unsupportedFormat, "\(directory.path) is store format \(header.format); this build reads format 1")
            }
            guard header.text_encoder == textEncoder, header.text_dimension == textDimension,
                header.image_encoder == imageEncoder, header.image_dimension == imageDimension
            else {
                throw SearchError(
                    .invalidArgument,
                    "\(directory.path) was built with text encoder \(header.text_encoder) (\(header.text_dimension)) and image encoder \(header.image_encoder ?? "none"); it cannot be searched with \(textEncoder) and \(imageEncoder ?? "none"). Use another --store or the same models."
                )
            }
        } else {
            do {
                try fm.createDirectory(at: directory, withIntermediateDirectories: true)
                let header = Header(
                    format: 1, text_encoder: textEncoder, text_dimension: textDimension, image_encoder: imageEncoder,
                    image_dimension: imageDimension)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                try AtomicFile.replace(headerURL.path, with: [Array(try encoder.encode(header))])
            } catch {
                throw SearchError(.io, "cannot create a store in \(directory.path)", underlying: SendableDescription(error))
            }
        }
        self.textEncoder = textEncoder
        self.textDimension = textDimension
        self.imageEncoder = imageEncoder
        self.imageDimension = imageDimension
    }

    /// Opens an existing format-1 store whatever encoders it names.
    ///
    /// - Throws: ``SearchError`` `.notFound` when `directory` holds no
    ///   `store.json`, `.corruptData` when it cannot be read.
    public static func existing(at directory: URL) throws -> SearchStore {
        let headerURL = directory.appendingPathComponent("store.json")
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(contentsOf: headerURL))
        } catch {
            throw SearchError(.corruptData, "\(headerURL.path) is not a readable store header", underlying: SendableDescription(error))
        }
        return try SearchStore(
            directory: directory, textEncoder: header.text_encoder, textDimension: header.text_dimension,
            imageEncoder: header.image_encoder, imageDimension: header.image_dimension)
    }

    private var itemsURL: URL { directory.appendingPathComponent("items.jsonl") }
    private var captionsURL: URL { directory.appendingPathComponent("captions.f32") }
    private var imagesURL: URL { directory.appendingPathComponent("images.f32") }
    /// Where the engagement snapshot lives.
    public var engagementURL: URL { directory.appendingPathComponent("engagement.snapshot") }

    /// Every complete record with its embeddings, cutting off what a crash left half written.
    public func load() throws -> [(record: Record, caption: [Float]?, image: [Float]?)] {
        let fm = FileManager.default
        guard fm.fileExists(atPath: itemsURL.path) else { return [] }
        let data: Data
        do { data = try Data(contentsOf: itemsURL) } catch {
            throw SearchError(.io, "cannot read \(itemsURL.path)", underlying: SendableDescription(error))
        }
        var records: [Record] = []
        var completeBytes = 0
        var lineNumber = 0
        var start = data.startIndex
        while let newline = data[start...].firstIndex(of: 0x0A) {
            lineNumber += 1
            let line = data[start..<newline]
            do {
                records.append(try JSONDecoder().decode(Record.self, from: line))
            } catch {
                throw SearchError(.corruptData, "\(itemsURL.path) line \(lineNumber) is not a store record", underlying: SendableDescription(error))
            }
            start = newline + 1
            completeBytes = start - data.startIndex
        }
        if completeBytes < data.count {
            // A torn final line from an interrupted run: drop it.
            try truncate(itemsURL, to: completeBytes)
        }
        let captionRows = records.filter(\.has_caption).count
        let imageRows = records.filter(\.has_image).count
        let captions = try readRows(captionsURL, rows: captionRows, dimension: textDimension)
        let images = try imageDimension.map { try readRows(imagesURL, rows: imageRows, dimension: $0) } ?? []
        var out: [(Record, [Float]?, [Float]?)] = []
        var c = 0, i = 0
        for record in records {
            var caption: [Float]?, image: [Float]?
            if record.has_caption {
                caption = Array(captions[(c * textDimension)..<((c + 1) * textDimension)])
                c += 1
            }
            if record.has_image, let d = imageDimension {
                image = Array(images[(i * d)..<((i + 1) * d)])
                i += 1
            }
            out.append((record, caption, image))
        }
        return out
    }

    private func readRows(_ url: URL, rows: Int, dimension: Int) throws -> [Float] {
        let needed = rows * dimension * 4
        guard needed > 0 else { return [] }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw SearchError(.corruptData, "\(url.path) is missing; the store lists \(rows) rows", underlying: SendableDescription(error))
        }
        guard data.count >= needed else {
            throw SearchError(.corruptData, "\(url.path) holds \(data.count) bytes; \(rows) rows of \(dimension) floats need \(needed)")
        }
        if data.count > needed { try truncate(url, to: needed) }  // rows whose lines never landed
        return data.prefix(needed).withUnsafeBytes { raw in
            (0..<(rows * dimension)).map { Float(bitPattern: LittleEndian.read(UInt32.self, raw, at: $0 * 4)) }
        }
    }

    private func truncate(_ url: URL, to size: Int) throws(SearchError) {
        try AppendFile(path: url.path).truncate(to: size)
    }

    /// Appends items with their embeddings, durably (see the type's description).
    public func append(_ entries: [(record: Record, caption: [Float]?, image: [Float]?)]) throws {
        var captionBytes: [UInt8] = [], imageBytes: [UInt8] = [], lines: [UInt8] = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for entry in entries {
            precondition(entry.record.has_caption == (entry.caption != nil), "has_caption must match the embedding")
            precondition(entry.record.has_image == (entry.image != nil), "has_image must match the embedding")
            if let v = entry.caption { append(v, to: &captionBytes) }
            if let v = entry.image { append(v, to: &imageBytes) }
            do { lines += Array(try encoder.encode(entry.record)) + [0x0A] } catch {
                throw SearchError(.invalidArgument, "item \(entry.record.id) cannot be encoded as JSON", underlying: SendableDescription(error))
            }
        }
        try appendDurably(captionBytes, to: captionsURL)
        try appendDurably(imageBytes, to: imagesURL)
        try appendDurably(lines, to: itemsURL)
    }

    private func append(_ v: [Float], to bytes: inout [UInt8]) {
        for x in v { LittleEndian.append(x.bitPattern, to: &bytes) }
    }

    private func appendDurably(_ bytes: [UInt8], to url: URL) throws(SearchError) {
        guard !bytes.isEmpty else { return }
        if !SystemCalls.exists(url.path) { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        let file = try AppendFile(path: url.path)
        try file.write(bytes, at: size)
        try file.flush()
    }

    /// Loads every stored item into `engine` (no encoding). Returns the records.
    @discardableResult
    public func restore(into engine: SearchEngine) throws -> [Record] {
        let entries = try load()
        for (record, caption, image) in entries {
            let item = CatalogItem(
                id: VectorID(record.id), caption: record.caption, image: record.path.map(ImageSource.file),
                metadata: record.metadata)
            try engine.insert(item, captionEmbedding: caption, imageEmbedding: image)
        }
        return entries.map(\.record)
    }

    /// The engagement recorded so far (an empty store when there is none);
    /// pass it to ``SearchEngine/init(configuration:engagement:cache:)``.
    public func loadEngagement() throws -> EngagementStore {
        guard FileManager.default.fileExists(atPath: engagementURL.path) else { return EngagementStore() }
        return try EngagementStore(snapshotAt: engagementURL.path)
    }

    /// Saves engagement atomically (a checksummed snapshot).
    public func saveEngagement(_ engagement: EngagementStore) throws {
        try engagement.write(to: engagementURL.path)
    }
}
