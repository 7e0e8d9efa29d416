import SearchCore

/// Validation and ordering shared by ``ROCAUC`` and ``PRAUC``.
enum BinaryScores {
    /// Throws `SearchError.Code.invalidArgument` unless there is one score
    /// per label, at least one of each, and no score is NaN.
    static func check(labels: [Bool], scores: [Double], _ measure: String) throws(SearchError) {
        guard labels.count == scores.count, !labels.isEmpty else {
            throw SearchError(
                .invalidArgument,
                "\(measure) needs one score per label and at least one of each: "
                    + "\(labels.count) labels, \(scores.count) scores")
        }
        if let bad = scores.firstIndex(where: \.isNaN) {
            throw SearchError(
                .invalidArgument,
                "\(measure): score at index \(bad) is NaN; NaN cannot be ordered (scikit-learn rejects it too)")
        }
    }

    /// Calls `body(positives, negatives)` for each group of equal scores, in
    /// the order `descending` asks for; each group's counts are of its own
    /// items only.
    static func forEachTieGroup(
        labels: [Bool], scores: [Double], descending: Bool, _ body: (_ positives: Int, _ negatives: Int) -> Void
    ) {
        let order = scores.indices.sorted { descending ? scores[$0] > scores[$1] : scores[$0] < scores[$1] }
        var start = 0
        while start < order.count {
            var positives = 0
            var negatives = 0
            var end = start
            while end < order.count, scores[order[end]] == scores[order[start]] {
                if labels[order[end]] { positives += 1 } else { negatives += 1 }
                end += 1
            }
            body(positives, negatives)
            start = end
        }
    }
}
