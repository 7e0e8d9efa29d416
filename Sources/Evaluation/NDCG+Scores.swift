import SearchCore

extension NDCG {
    /// NDCG@k of scored candidates with known relevance, tied scores
    /// averaged: scikit-learn's `ndcg_score` (with its default
    /// `ignore_ties=False`) for one query.
    ///
    /// The candidates are ordered by score, descending. Items with equal
    /// scores form one group, and each position the group covers gets the
    /// group's *average* gain, so the value does not depend on how ties would
    /// be broken (McSherry & Najork, "Computing information retrieval
    /// performance measures efficiently in the presence of tied scores",
    /// ECIR 2008). The ideal ranking sorts `relevance` itself, so only the
    /// given candidates count; use ``atK(_:judgements:k:gain:)`` to count
    /// judged items that were not retrieved.
    ///
    /// ```swift
    /// // scikit-learn: ndcg_score([[3, 2, 0]], [[1, 1, 1]]) == 0.8333…
    /// try NDCG.atK(relevance: [3, 2, 0], scores: [1, 1, 1], k: 3)
    /// ```
    ///
    /// - Parameters:
    ///   - relevance: each candidate's relevance, ≥ 0; for the exponential
    ///     gain, 2^relevance − 1 is used.
    ///   - scores: each candidate's score, larger is better; same order.
    ///   - k: the cutoff, at least 1.
    ///   - gain: how a relevance becomes a gain.
    /// - Returns: a value in [0, 1]; 0 when every relevance is 0.
    /// - Throws: `SearchError.Code.invalidArgument` when the arrays differ
    ///   in length or are empty, `k < 1`, a relevance is negative or not
    ///   finite (scikit-learn rejects negative relevance too), or a score is
    ///   NaN.
    public static func atK(relevance: [Double], scores: [Double], k: Int, gain: Gain = .linear) throws(SearchError)
        -> Double
    {
        try RankedList.checkCutoff(k)
        guard relevance.count == scores.count, !scores.isEmpty else {
            throw SearchError(
                .invalidArgument,
                "NDCG needs one score per relevance value and at least one candidate: "
                    + "\(relevance.count) relevance values, \(scores.count) scores")
        }
        if let bad = relevance.firstIndex(where: { !($0 >= 0 && $0.isFinite) }) {
            throw SearchError(
                .invalidArgument, "relevance \(relevance[bad]) at index \(bad) is not a finite value ≥ 0")
        }
        if let bad = scores.firstIndex(where: \.isNaN) {
            throw SearchError(.invalidArgument, "score at index \(bad) is NaN; NaN has no place in a ranking")
        }

        let gains = relevance.map { gain.value(ofGrade: $0) }
        var ideal = 0.0
        for (index, g) in gains.sorted(by: >).prefix(k).enumerated() {
            ideal += g / discountDenominator(index)
        }
        guard ideal > 0 else { return 0 }

        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var actual = 0.0
        var start = 0
        while start < order.count, start < k {
            var end = start + 1
            while end < order.count, scores[order[end]] == scores[order[start]] { end += 1 }
            var groupGain = 0.0
            for position in start..<end { groupGain += gains[order[position]] }
            var discounts = 0.0
            for position in start..<min(end, k) { discounts += 1 / discountDenominator(position) }
            actual += groupGain / Double(end - start) * discounts
            start = end
        }
        return actual / ideal
    }

    /// NDCG@k of many queries' scored candidates, ties averaged: one value
    /// per query and their mean, as scikit-learn's `ndcg_score` returns the
    /// mean over the rows of its matrices.
    ///
    /// - Throws: what ``atK(relevance:scores:k:gain:)`` throws for any query,
    ///   and `SearchError.Code.invalidArgument` when the batches differ in
    ///   length.
    public static func atK(relevance: [[Double]], scores: [[Double]], k: Int, gain: Gain = .linear)
        throws(SearchError) -> MetricValues
    {
        guard relevance.count == scores.count else {
            throw SearchError(
                .invalidArgument,
                "NDCG needs one score list per query: \(relevance.count) relevance lists, \(scores.count) score lists")
        }
        var values: [Double] = []
        values.reserveCapacity(scores.count)
        for query in scores.indices {
            values.append(try atK(relevance: relevance[query], scores: scores[query], k: k, gain: gain))
        }
        return MetricValues(values)
    }
}
