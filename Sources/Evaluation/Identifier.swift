import SearchCore

/// Checks on the identifiers a TREC file can hold.
enum Identifier {
    /// Throws `SearchError.Code.invalidArgument` unless `value` is
    /// non-empty and free of whitespace, so it survives a round trip through
    /// a whitespace-separated TREC file.
    static func check(_ value: String, _ what: String) throws(SearchError) {
        guard !value.isEmpty, !value.contains(where: \.isWhitespace) else {
            throw SearchError(
                .invalidArgument,
                "\(what) \"\(value)\" must be non-empty and contain no whitespace: TREC files separate fields by it")
        }
    }
}
