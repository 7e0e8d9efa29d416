import SearchCore

/// The element types a safetensors file may declare, with their on-disk names.
///
/// Every dtype of the format is recognised so a header can be validated
/// whole; ``isFloatingPoint`` marks the three this SDK reads as weights
/// (`F32`, `F16`, `BF16`).
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case bool = "BOOL"
    case uint8 = "U8"
    case int8 = "I8"
    case float8E5M2 = "F8_E5M2"
    case float8E4M3 = "F8_E4M3"
    case int16 = "I16"
    case uint16 = "U16"
    case float16 = "F16"
    case bfloat16 = "BF16"
    case int32 = "I32"
    case uint32 = "U32"
    case float32 = "F32"
    case float64 = "F64"
    case int64 = "I64"
    case uint64 = "U64"

    /// Bytes per element.
    public var byteCount: Int {
        switch self {
        case .bool, .uint8, .int8, .float8E5M2, .float8E4M3: 1
        case .int16, .uint16, .float16, .bfloat16: 2
        case .int32, .uint32, .float32: 4
        case .float64, .int64, .uint64: 8
        }
    }

    /// True for the dtypes weights are read from: F32, F16 and BF16.
    public var isFloatingPoint: Bool { self == .float32 || self == .float16 || self == .bfloat16 }
}

/// One tensor's entry in a safetensors header.
public struct SafetensorsTensorInfo: Sendable, Equatable {
    /// The tensor's name (a state-dict key such as `visual.conv1.weight`).
    public var name: String
    /// The element type.
    public var dtype: SafetensorsDType
    /// Extents, outermost first; empty for a scalar.
    public var shape: [Int]
    /// The tensor's bytes, relative to the start of the data section.
    public var byteRange: Range<Int>

    /// The number of elements (1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A validated safetensors header: the table of tensors and the free-form metadata.
///
/// ## Format
///
/// A safetensors file is, byte by byte:
///
/// | bytes | content |
/// | --- | --- |
/// | 0 ..< 8 | `N`, the header length, an unsigned 64-bit integer, **little-endian** |
/// | 8 ..< 8+N | the header: UTF-8 JSON, one object; may end in spaces (0x20) as padding |
/// | 8+N ..< end | the data section: the tensors' bytes, little-endian, row-major |
///
/// The header object maps each tensor name to
/// `{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}`, offsets
/// relative to the start of the data section; the optional member
/// `"__metadata__"` maps strings to strings.
///
/// ## What is checked before anything is trusted
///
/// - `N` ≤ ``maximumHeaderSize`` (100 MB, the reference implementation's
///   cap) and `8 + N` ≤ the file's size;
/// - the header is valid UTF-8 JSON, an object, starting with `{`, no
///   duplicate names, at most ``maximumTensorCount`` tensors, known dtypes,
///   extents ≥ 0 with at most ``maximumRank`` dimensions and no overflow;
/// - `end − begin` = element count × dtype size, exactly;
/// - sorted by offset, the tensors tile the data section: the first starts
///   at 0, each starts where the previous ended (no overlap, no hole), the
///   last ends at the end of the file — as the reference implementation
///   validates.
///
/// Any violation is a ``SearchCore/SearchError`` (``SearchCore/SearchError/Code/corruptData``,
/// or ``SearchCore/SearchError/Code/resourceLimit`` for the size caps); no
/// input traps.
public struct SafetensorsHeader: Sendable {
    /// The tensors, in the order of their offsets.
    public private(set) var tensors: [SafetensorsTensorInfo]
    /// The `__metadata__` strings, if any.
    public private(set) var metadata: [String: String]
    /// Where the data section starts in the file: `8 + N`.
    public private(set) var dataOffset: Int
    private var indexByName: [String: Int]

    /// The largest header accepted, in bytes.
    public static let maximumHeaderSize = 100_000_000
    /// The most tensors one header may list.
    public static let maximumTensorCount = 1_000_000
    /// The most dimensions one tensor may have.
    public static let maximumRank = 8

    /// The entry for `name`, if the file has that tensor.
    public subscript(name: String) -> SafetensorsTensorInfo? {
        indexByName[name].map { tensors[$0] }
    }

    /// Every tensor name, in offset order.
    public var names: [String] { tensors.map(\.name) }

    /// Parses and validates the header at the start of `file`, the whole
    /// file's bytes (its size bounds every offset).
    public init(parsing file: UnsafeRawBufferPointer) throws(SearchError) {
        guard file.count >= 8 else {
            throw SearchError(.corruptData, "a safetensors file starts with an 8-byte header length; this one has \(file.count) bytes")
        }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(file[i]) << (8 * UInt64(i)) }  // little-endian u64
        guard length <= UInt64(Self.maximumHeaderSize) else {
            throw SearchError(
                .resourceLimit, "the safetensors header claims \(length) bytes, over the \(Self.maximumHeaderSize)-byte cap")
        }
        let n = Int(length)
        guard n <= file.count - 8 else {
            throw SearchError(.corruptData, "the safetensors header claims \(n) bytes but the file has \(file.count - 8) after the length: truncated")
        }
        guard n >= 2, file[8] == UInt8(ascii: "{") else {
            throw SearchError(.corruptData, "the safetensors header must be a JSON object starting with '{'")
        }
        dataOffset = 8 + n
        let json = try JSONValue.parse(UnsafeRawBufferPointer(rebasing: file[8..<(8 + n)]), what: "safetensors header")
        guard case .object(let members) = json else {
            throw SearchError(.corruptData, "the safetensors header is not a JSON object")
        }
        guard members.count <= Self.maximumTensorCount + 1 else {
            throw SearchError(.resourceLimit, "the safetensors header lists \(members.count) entries, over the cap of \(Self.maximumTensorCount)")
        }
        var tensors: [SafetensorsTensorInfo] = []
        tensors.reserveCapacity(members.count)
        var metadata: [String: String] = [:]
        var seen = Set<String>()
        for (name, value) in members {
            guard seen.insert(name).inserted else {
                throw SearchError(.corruptData, "the safetensors header names \"\(name)\" twice")
            }
            if name == "__metadata__" {
                guard case .object(let entries) = value else {
                    throw SearchError(.corruptData, "__metadata__ must be an object of strings")
                }
                for (k, v) in entries {
                    guard let s = v.stringValue else {
                        throw SearchError(.corruptData, "__metadata__[\"\(k)\"] is not a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            tensors.append(try Self.tensorInfo(name: name, value))
        }
        tensors.sort { ($0.byteRange.lowerBound, $0.byteRange.upperBound) < ($1.byteRange.lowerBound, $1.byteRange.upperBound) }
        let dataCount = file.count - dataOffset
        var expectedStart = 0
        for t in tensors {
            guard t.byteRange.lowerBound == expectedStart else {
                throw SearchError(
                    .corruptData,
                    t.byteRange.lowerBound < expectedStart
                        ? "tensor \"\(t.name)\" at bytes \(t.byteRange) overlaps the tensor before it (which ends at \(expectedStart))"
                        : "tensor \"\(t.name)\" starts at byte \(t.byteRange.lowerBound), leaving a hole after byte \(expectedStart)")
            }
            guard t.byteRange.upperBound <= dataCount else {
                throw SearchError(
                    .corruptData,
                    "tensor \"\(t.name)\" ends at data byte \(t.byteRange.upperBound) but the data section has \(dataCount) bytes: truncated")
            }
            expectedStart = t.byteRange.upperBound
        }
        guard expectedStart == dataCount else {
            throw SearchError(
                .corruptData, "the tensors cover \(expectedStart) bytes of a \(dataCount)-byte data section: trailing bytes")
        }
        self.tensors = tensors
        self.metadata = metadata
        var index: [String: Int] = [:]
        index.reserveCapacity(tensors.count)
        for (i, t) in tensors.enumerated() { index[t.name] = i }
        indexByName = index
    }

    private static func tensorInfo(name: String, _ value: JSONValue) throws(SearchError) -> SafetensorsTensorInfo {
        guard case .object = value else {
            throw SearchError(.corruptData, "tensor \"\(name)\": entry is not an object")
        }
        guard let dtypeName = value["dtype"]?.stringValue else {
            throw SearchError(.corruptData, "tensor \"\(name)\": missing dtype")
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw SearchError(.corruptData, "tensor \"\(name)\": unknown dtype \"\(dtypeName)\"")
        }
        guard case .array(let dims) = value["shape"] else {
            throw SearchError(.corruptData, "tensor \"\(name)\": missing shape")
        }
        guard dims.count <= maximumRank else {
            throw SearchError(.corruptData, "tensor \"\(name)\": rank \(dims.count) is over \(maximumRank)")
        }
        var shape: [Int] = []
        var elements = 1
        for d in dims {
            guard case .integer(let v) = d, v >= 0, let extent = Int(exactly: v) else {
                throw SearchError(.corruptData, "tensor \"\(name)\": shape holds \(d), not a non-negative integer")
            }
            let (product, overflow) = elements.multipliedReportingOverflow(by: extent)
            guard !overflow else {
                throw SearchError(.corruptData, "tensor \"\(name)\": element count overflows")
            }
            elements = product
            shape.append(extent)
        }
        guard case .array(let offsets) = value["data_offsets"], offsets.count == 2,
            case .integer(let b) = offsets[0], case .integer(let e) = offsets[1], b >= 0, e >= b,
            let begin = Int(exactly: b), let end = Int(exactly: e)
        else {
            throw SearchError(.corruptData, "tensor \"\(name)\": data_offsets must be [begin, end] with 0 ≤ begin ≤ end")
        }
        let (bytes, overflow) = elements.multipliedReportingOverflow(by: dtype.byteCount)
        guard !overflow, end - begin == bytes else {
            throw SearchError(
                .corruptData,
                "tensor \"\(name)\": \(dtypeName) × \(shape) needs \(overflow ? "too many" : "\(bytes)") bytes but data_offsets span \(end - begin)")
        }
        return SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape, byteRange: begin..<end)
    }
}
