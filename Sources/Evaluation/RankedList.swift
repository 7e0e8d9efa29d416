import SearchCore

/// Checks shared by every ranking measure: a valid cutoff and a ranking in
/// which no item appears twice.
enum RankedList {
    /// Throws `SearchError.Code.invalidArgument` unless `k ≥ 1`.
    static func checkCutoff(_ k: Int) throws(SearchError) {
        guard k >= 1 else {
            throw SearchError(.invalidArgument, "the cutoff k must be at least 1, got \(k)")
        }
    }

    /// Throws `SearchError.Code.invalidArgument` when an item appears twice
    /// in `ranking`, naming the item and both ranks (1-based).
    ///
    /// A repeated item would be credited twice (recall above 1); trec_eval
    /// refuses such runs too.
    static func checkUnique<ID: Hashable>(_ ranking: [ID], _ what: String = "ranking") throws(SearchError) {
        var firstRank: [ID: Int] = [:]
        firstRank.reserveCapacity(ranking.count)
        for (index, id) in ranking.enumerated() {
            if let earlier = firstRank.updateValue(index + 1, forKey: id) {
                throw SearchError(
                    .invalidArgument,
                    "\(what) lists \(id) twice, at ranks \(earlier) and \(index + 1); "
                        + "each item may appear once (trec_eval rejects duplicates too)")
            }
        }
    }

    /// The number of relevant items among the first `k` of `ranking`.
    static func relevantCount<ID: Hashable>(in ranking: [ID], judgements: Judgements<ID>, k: Int) -> Int {
        var count = 0
        for id in ranking.prefix(k) where judgements.isRelevant(id) { count += 1 }
        return count
    }
}
