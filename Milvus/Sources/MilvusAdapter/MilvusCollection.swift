import SearchCore

/// A Milvus collection as ``MilvusIndex`` lays it out: an `INT64` primary key
/// (a ``VectorID`` bit-cast to `Int64`), one `FLOAT_VECTOR` field, and scalar
/// fields a search can filter on.
///
/// ```swift
/// let photos = MilvusCollection(
///     name: "photos", dimension: 512, metric: .cosine,
///     index: .hnsw(m: 16, efConstruction: 200),
///     fields: [MilvusField("category", .string(maxLength: 64)), MilvusField("year", .int64)])
/// ```
public struct MilvusCollection: Sendable, Hashable {
    /// The collection's name: letters, digits and `_`, starting with a letter
    /// or `_`, at most 255 characters (Milvus's rule).
    public var name: String
    /// The number of components of every vector.
    public var dimension: Int
    /// How vectors are compared; mapped to Milvus's `L2` (squared, as here),
    /// `IP` and `COSINE`.
    public var metric: Metric
    /// The vector index the server builds.
    public var index: MilvusIndexKind
    /// Scalar fields stored beside each vector, for filtering.
    public var fields: [MilvusField]
    /// The number of shards (WAL channels) a cluster spreads writes over;
    /// `nil` leaves the server's default (1). Fixed when the collection is made.
    public var shards: Int?

    /// The primary-key field's name.
    public static let idField = "id"
    /// The vector field's name.
    public static let vectorField = "vector"

    /// A collection of `dimension`-component vectors under `metric`.
    public init(
        name: String, dimension: Int, metric: Metric, index: MilvusIndexKind = .hnsw(),
        fields: [MilvusField] = [], shards: Int? = nil
    ) {
        self.name = name
        self.dimension = dimension
        self.metric = metric
        self.index = index
        self.fields = fields
        self.shards = shards
    }

    /// Milvus's name for ``metric``.
    var metricName: String {
        switch metric {
        case .squaredL2: "L2"
        case .innerProduct: "IP"
        case .cosine: "COSINE"
        }
    }

    /// Checks what Milvus would reject, before any call.
    func validate() throws(SearchError) {
        try Self.checkName(name, "collection name")
        guard dimension >= 2, dimension <= 32_768 else {
            throw SearchError(.invalidArgument, "Milvus vectors have 2…32768 components; the collection asks for \(dimension)")
        }
        var seen: Set<String> = [Self.idField, Self.vectorField]
        for field in fields {
            try Self.checkName(field.name, "field name")
            guard seen.insert(field.name).inserted else {
                throw SearchError(
                    .invalidArgument,
                    "field '\(field.name)' appears twice (or clashes with the adapter's '\(Self.idField)'/'\(Self.vectorField)')")
            }
            if case .string(let maxLength) = field.type, !(1...65_535).contains(maxLength) {
                throw SearchError(.invalidArgument, "field '\(field.name)': a VARCHAR holds 1…65535 bytes, not \(maxLength)")
            }
        }
        switch index {
        case .hnsw(let m, let efConstruction):
            guard (2...2048).contains(m), efConstruction >= 1 else {
                throw SearchError(.invalidArgument, "HNSW needs M in 2…2048 and efConstruction ≥ 1; got M \(m), efConstruction \(efConstruction)")
            }
        case .ivfFlat(let nlist):
            guard (1...65_536).contains(nlist) else {
                throw SearchError(.invalidArgument, "IVF_FLAT needs nlist in 1…65536; got \(nlist)")
            }
        case .flat: break
        }
        if let shards, !(1...16).contains(shards) {
            throw SearchError(.invalidArgument, "Milvus allows 1…16 shards; got \(shards)")
        }
    }

    static func checkName(_ name: String, _ what: String) throws(SearchError) {
        let bytes = Array(name.utf8)
        let valid =
            !bytes.isEmpty && bytes.count <= 255
            && bytes.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x5F }
            && !(bytes[0] >= 0x30 && bytes[0] <= 0x39)
        guard valid else {
            throw SearchError(
                .invalidArgument,
                "\(what) '\(name)' is not a Milvus identifier: use letters, digits and '_', starting with a letter or '_', at most 255 characters"
            )
        }
    }
}

/// The vector index a Milvus server builds over a collection.
public enum MilvusIndexKind: Sendable, Hashable {
    /// A hierarchical navigable small-world graph (Malkov & Yashunin, 2018):
    /// `m` links per node (16 here, as in hnswlib and Milvus), `efConstruction`
    /// candidates while building (200 here; Milvus's default is 360).
    case hnsw(m: Int = 16, efConstruction: Int = 200)
    /// An inverted file over `nlist` k-means cells, vectors stored unquantised;
    /// a search probes ``MilvusSearchParameters/nprobe`` cells.
    case ivfFlat(nlist: Int = 128)
    /// An exact scan: exact k, slow on large collections.
    case flat

    var typeName: String {
        switch self {
        case .hnsw: "HNSW"
        case .ivfFlat: "IVF_FLAT"
        case .flat: "FLAT"
        }
    }

    /// The `params` JSON of CreateIndex.
    var buildParams: String {
        switch self {
        case .hnsw(let m, let efConstruction): #"{"M":\#(m),"efConstruction":\#(efConstruction)}"#
        case .ivfFlat(let nlist): #"{"nlist":\#(nlist)}"#
        case .flat: "{}"
        }
    }
}

/// How a search explores the index.
public struct MilvusSearchParameters: Sendable, Hashable {
    /// HNSW's `ef`: candidates kept while searching (at least k; 64 here as in
    /// the in-process ``VectorIndex`` defaults).
    public var ef: Int = 64
    /// IVF's `nprobe`: cells visited.
    public var nprobe: Int = 16

    /// Parameters with `ef` and `nprobe`.
    public init(ef: Int = 64, nprobe: Int = 16) {
        self.ef = ef
        self.nprobe = nprobe
    }

    /// The `params` JSON of Search for `kind`, with `ef` raised to `k` where HNSW needs it.
    func json(for kind: MilvusIndexKind, k: Int) -> String {
        switch kind {
        case .hnsw: #"{"ef":\#(max(ef, k))}"#
        case .ivfFlat: #"{"nprobe":\#(nprobe)}"#
        case .flat: "{}"
        }
    }
}

/// A scalar field stored beside each vector.
public struct MilvusField: Sendable, Hashable {
    /// The field's name (a Milvus identifier).
    public var name: String
    /// Its type.
    public var type: MilvusFieldType

    /// A field called `name` of `type`.
    public init(_ name: String, _ type: MilvusFieldType) {
        self.name = name
        self.type = type
    }
}

/// The scalar types a ``MilvusField`` can have. Every field is nullable, so
/// rows written without it (``VectorIndex/add(_:ids:)``) hold null there.
public enum MilvusFieldType: Sendable, Hashable {
    /// `VARCHAR` of at most `maxLength` bytes of UTF-8.
    case string(maxLength: Int)
    /// `INT64`.
    case int64
    /// `DOUBLE`.
    case double
    /// `BOOL`.
    case bool
}

/// A value of a scalar field.
public enum MilvusValue: Sendable, Hashable {
    /// A value of a ``MilvusFieldType/string(maxLength:)`` field.
    case string(String)
    /// A value of an ``MilvusFieldType/int64`` field.
    case int64(Int64)
    /// A value of a ``MilvusFieldType/double`` field.
    case double(Double)
    /// A value of a ``MilvusFieldType/bool`` field.
    case bool(Bool)

    var typeName: String {
        switch self {
        case .string: "string"
        case .int64: "int64"
        case .double: "double"
        case .bool: "bool"
        }
    }
}
