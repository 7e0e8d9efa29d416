import SearchCore

/// The check every text tower makes of a token sequence before packing it
/// into a batch: its length within the model's positions, every id inside the
/// vocabulary (and, where the model reserves one, not its padding id).
enum TokenSequence {
    /// Throws ``SearchCore/SearchError/Code/invalidArgument`` naming the
    /// first problem of `ids`.
    static func check(
        _ ids: [Int32], maximumTokens: Int, vocabularySize: Int, excluding padding: Int32? = nil
    ) throws(SearchError) {
        guard !ids.isEmpty, ids.count <= maximumTokens else {
            throw SearchError(.invalidArgument, "a sequence has \(ids.count) tokens; this model takes 1…\(maximumTokens)")
        }
        for id in ids where id < 0 || Int(id) >= vocabularySize || id == padding {
            throw SearchError(
                .invalidArgument,
                padding == nil
                    ? "token id \(id) is outside the vocabulary of \(vocabularySize)"
                    : "token id \(id) is the padding id or outside the vocabulary of \(vocabularySize)")
        }
    }
}
