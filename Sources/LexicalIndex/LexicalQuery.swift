/// A keyword query, parsed from what a user types.
///
/// - Words are alternatives (OR), scored with BM25 in every field and summed.
/// - `"brass legs"` in double quotes is a phrase: its words at consecutive
///   positions in one field (after analysis, so `"brass leg"` matches too).
/// - A word ending in `*` (`img_20*`, `holi*`) is a prefix: every indexed term
///   of a field that starts with it, up to ``LexicalQuery/maximumExpansions``
///   terms of the highest document frequency, each scored as a word.
///   Prefixes are matched before stemming.
public struct LexicalQuery: Sendable, Hashable {
    /// One part of a query.
    public enum Clause: Sendable, Hashable {
        /// Free text, analysed by each field's analyzer.
        case text(String)
        /// Words that must appear next to each other, in this order.
        case phrase(String)
        /// Terms starting with this text.
        case prefix(String)
    }

    /// The clauses, in the order they appeared.
    public var clauses: [Clause]

    /// The most terms one prefix expands to (per field), the most frequent first.
    public static let maximumExpansions = 64

    /// A query made of `clauses`.
    public init(clauses: [Clause]) { self.clauses = clauses }

    /// Parses `text`: quoted phrases, trailing-`*` prefixes, and the rest as free text.
    public init(parsing text: String) {
        var clauses: [Clause] = []
        var free: [Substring] = []
        let parts = text.split(separator: "\"", omittingEmptySubsequences: false)
        for (i, part) in parts.enumerated() {
            // Odd parts lie between quotes; the last one is unclosed when the quotes are odd in number.
            if i % 2 == 1, i < parts.count - 1 {
                if !part.allSatisfy(\.isWhitespace) {
                    if !free.isEmpty { clauses.append(.text(free.joined(separator: " "))) }
                    free = []
                    clauses.append(.phrase(String(part)))
                }
                continue
            }
            for word in part.split(whereSeparator: \.isWhitespace) {
                if word.count > 1, word.hasSuffix("*") {
                    if !free.isEmpty { clauses.append(.text(free.joined(separator: " "))) }
                    free = []
                    clauses.append(.prefix(String(word.dropLast())))
                } else {
                    free.append(word)
                }
            }
        }
        if !free.isEmpty { clauses.append(.text(free.joined(separator: " "))) }
        self.clauses = clauses
    }
}
