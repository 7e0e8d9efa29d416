import SearchCore

/// A filter the Milvus server evaluates: identifier lists and conditions on
/// the collection's scalar fields, rendered as a Milvus boolean expression.
///
/// ```swift
/// let shoes = MilvusPredicate.equals("category", .string("shoes"))
///     && .hasPrefix("sku", "SH-") && !.ids([3, 5])
/// let hits = try await index.search(query, k: 10, where: shoes)
/// ```
///
/// ``SearchFilter``s given to the ``VectorIndex`` methods are pushed down the
/// same way where they can be: ``NoFilter`` (no expression), ``AllowList``
/// (`id in [...]`) and ``DenyList`` (`id not in [...]`). Any other filter is
/// applied to the hits the server returns, fetching more until `k` pass or the
/// server's limit of 16384 hits is reached (see ``MilvusIndex``).
public indirect enum MilvusPredicate: Sendable, Hashable {
    /// Identifiers among `ids`.
    case ids([VectorID])
    /// A field equal to a value.
    case equals(String, MilvusValue)
    /// A `string` field starting with a prefix (`field like "prefix%"`).
    case hasPrefix(String, String)
    /// Both hold.
    case and(MilvusPredicate, MilvusPredicate)
    /// Either holds.
    case or(MilvusPredicate, MilvusPredicate)
    /// It does not hold.
    case not(MilvusPredicate)

    /// Both hold.
    public static func && (lhs: MilvusPredicate, rhs: MilvusPredicate) -> MilvusPredicate { .and(lhs, rhs) }
    /// Either holds.
    public static func || (lhs: MilvusPredicate, rhs: MilvusPredicate) -> MilvusPredicate { .or(lhs, rhs) }
    /// It does not hold.
    public static prefix func ! (operand: MilvusPredicate) -> MilvusPredicate { .not(operand) }

    /// The Milvus expression, with every field checked against `fields`.
    ///
    /// - Throws: ``SearchError/Code/invalidArgument`` for a field the
    ///   collection lacks, a value of the wrong type, or a prefix on a
    ///   non-string field.
    func expression(fields: [MilvusField]) throws(SearchError) -> String {
        switch self {
        case .ids(let ids):
            return "\(MilvusCollection.idField) in \(Self.idList(ids))"
        case .equals(let name, let value):
            let field = try Self.field(name, in: fields)
            switch (field.type, value) {
            case (.string, .string(let s)): return "\(name) == \(Self.quoted(s))"
            case (.int64, .int64(let v)): return "\(name) == \(v)"
            case (.double, .double(let v)):
                guard v.isFinite else { throw SearchError(.invalidArgument, "field '\(name)' cannot be compared with \(v)") }
                return "\(name) == \(v)"
            case (.bool, .bool(let v)): return "\(name) == \(v)"
            default:
                throw SearchError(
                    .invalidArgument, "field '\(name)' is \(field.type.name); it cannot equal a \(value.typeName) value")
            }
        case .hasPrefix(let name, let prefix):
            let field = try Self.field(name, in: fields)
            guard case .string = field.type else {
                throw SearchError(.invalidArgument, "a prefix filter needs a string field; '\(name)' is \(field.type.name)")
            }
            return "\(name) like \(Self.quoted(Self.escapeLike(prefix) + "%"))"
        case .and(let a, let b):
            return "(\(try a.expression(fields: fields))) and (\(try b.expression(fields: fields)))"
        case .or(let a, let b):
            return "(\(try a.expression(fields: fields))) or (\(try b.expression(fields: fields)))"
        case .not(let a):
            return "not (\(try a.expression(fields: fields)))"
        }
    }

    static func idList<C: Collection>(_ ids: C) -> String where C.Element == VectorID {
        "[" + ids.map { String(Int64(bitPattern: $0.rawValue)) }.joined(separator: ",") + "]"
    }

    private static func field(_ name: String, in fields: [MilvusField]) throws(SearchError) -> MilvusField {
        guard let field = fields.first(where: { $0.name == name }) else {
            let known = fields.map(\.name).joined(separator: ", ")
            throw SearchError(
                .invalidArgument,
                "the collection has no scalar field '\(name)' (it has: \(known.isEmpty ? "none" : known)); declare it in MilvusCollection.fields"
            )
        }
        return field
    }

    /// A Milvus string literal: double quotes, with `\` and `"` escaped.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }

    /// `like` treats `%` and `_` as wildcards; a prefix containing them is escaped.
    private static func escapeLike(_ s: String) -> String {
        var out = ""
        for c in s {
            if c == "%" || c == "_" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }
}

extension MilvusFieldType {
    var name: String {
        switch self {
        case .string: "string"
        case .int64: "int64"
        case .double: "double"
        case .bool: "bool"
        }
    }
}
