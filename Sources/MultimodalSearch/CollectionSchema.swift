import Foundation
import SearchCore

/// One vector field of a collection: which encoder fills it, at which
/// dimension, compared how.
///
/// The encoder's name is the collection's only way to know that stored
/// vectors and new queries live in the same space: give a name that changes
/// whenever the weights do (`"bert:all-MiniLM-L6-v2:384"`, a checkpoint's hash).
public struct VectorField: Sendable, Hashable, Codable {
    /// The field's name: ``caption`` and ``image`` are filled by the engine;
    /// any other name is the host's (``SearchCollection/add(_:vectors:)``).
    public var name: String
    /// The name of the encoder that fills it.
    public var encoder: String
    /// Components per vector.
    public var dimension: Int
    /// How its vectors are compared.
    public var metric: Metric

    /// The engine's caption field's name.
    public static let caption = "caption"
    /// The engine's picture field's name.
    public static let image = "image"

    /// A field named `name`, filled by `encoder` with `dimension`-component vectors.
    /// The default metric is inner product: the engine stores unit-length
    /// embeddings, on which it ranks as cosine and costs less.
    public init(name: String, encoder: String, dimension: Int, metric: Metric = .innerProduct) {
        self.name = name
        self.encoder = encoder
        self.dimension = dimension
        self.metric = metric
    }

    private enum CodingKeys: String, CodingKey { case name, encoder, dimension, metric }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        encoder = try c.decode(String.self, forKey: .encoder)
        dimension = try c.decode(Int.self, forKey: .dimension)
        let metricName = try c.decode(String.self, forKey: .metric)
        guard let metric = Metric(name: metricName) else {
            throw DecodingError.dataCorruptedError(forKey: .metric, in: c, debugDescription: "unknown metric \(metricName)")
        }
        self.metric = metric
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(self.encoder, forKey: .encoder)
        try c.encode(dimension, forKey: .dimension)
        try c.encode(metric.description, forKey: .metric)
    }
}

/// What a collection holds: its vector fields, in order (at most 8).
///
/// Stored as `schema.json` (`{"format": 2, "fields": [...]}`), written once
/// when the collection is created. Opening a collection compares the schema
/// the caller expects with the stored one field by field.
public struct CollectionSchema: Sendable, Hashable, Codable {
    /// The vector fields.
    public var fields: [VectorField]

    /// The on-disk format this build writes and reads.
    public static let format = 2
    /// The most vector fields a collection holds (an item's field bits fit a byte).
    public static let maximumFields = 8

    /// A schema of these fields.
    public init(fields: [VectorField]) { self.fields = fields }

    /// The field named `name`, if any.
    public func field(_ name: String) -> VectorField? { fields.first { $0.name == name } }

    /// Throws unless the fields have distinct, path-safe names and sane dimensions.
    func validate() throws(SearchError) {
        guard !fields.isEmpty, fields.count <= Self.maximumFields else {
            throw SearchError(.invalidArgument, "a collection needs 1 to \(Self.maximumFields) vector fields, got \(fields.count)")
        }
        var seen = Set<String>()
        for f in fields {
            guard !f.name.isEmpty, f.name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }), f.name.utf8.allSatisfy({ $0 < 128 })
            else {
                throw SearchError(.invalidArgument, "vector field name \"\(f.name)\" must be ASCII letters, digits, _ or -")
            }
            guard seen.insert(f.name).inserted else {
                throw SearchError(.invalidArgument, "vector field \"\(f.name)\" is named twice")
            }
            guard (1...65_536).contains(f.dimension) else {
                throw SearchError(.invalidArgument, "vector field \"\(f.name)\" has dimension \(f.dimension); it must be in 1...65536")
            }
        }
    }

    /// Throws ``SearchCore/SearchError/Code/invalidArgument`` saying how to
    /// re-embed unless `expected` matches this (stored) schema.
    func check(expected: CollectionSchema, directory: String) throws(SearchError) {
        guard expected != self else { return }
        func describe(_ s: CollectionSchema) -> String {
            s.fields.map { "\($0.name): \($0.encoder) (\($0.dimension), \($0.metric))" }.joined(separator: "; ")
        }
        throw SearchError(
            .invalidArgument,
            """
            \(directory) was built with [\(describe(self))]; this engine expects [\(describe(expected))]. \
            Vectors from different encoders are not comparable. Open it with the encoders it was built with, \
            or re-embed: create a new collection with the new encoders and ingest the items again \
            (`mms index FOLDER --store NEW-DIR`; items can be read back with `SearchCollection.items()`).
            """)
    }

    func encoded() throws(SearchError) -> [UInt8] {
        struct File: Codable {
            var format: Int
            var fields: [VectorField]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            return Array(try encoder.encode(File(format: Self.format, fields: fields))) + [0x0A]
        } catch {
            throw SearchError(.invalidArgument, "the schema cannot be written as JSON: \(error)")
        }
    }

    static func decode(_ bytes: [UInt8], path: String) throws(SearchError) -> CollectionSchema {
        struct Probe: Codable { var format: Int }
        struct File: Codable {
            var format: Int
            var fields: [VectorField]
        }
        let data = Data(bytes)
        let format: Int
        do { format = try JSONDecoder().decode(Probe.self, from: data).format } catch {
            throw SearchError(.corruptData, "\(path) is not a collection schema: \(error)")
        }
        guard format == Self.format else {
            throw SearchError(.unsupportedFormat, "\(path) is collection format \(format); this build reads format \(Self.format)")
        }
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: data) } catch {
            throw SearchError(.corruptData, "\(path) is not a readable collection schema: \(error)")
        }
        let schema = CollectionSchema(fields: file.fields)
        do { try schema.validate() } catch {
            throw SearchError(.corruptData, "\(path): \(error.message)")
        }
        return schema
    }
}
