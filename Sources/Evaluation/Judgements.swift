/// The graded relevance judgements for one query: how relevant each judged
/// item is.
///
/// A grade is an integer, as in a TREC qrels file. An item is *relevant* when
/// its grade is at least 1 (trec_eval's default relevance level); grade 0 is
/// judged not relevant, and a negative grade (TREC uses −1 for "in the pool
/// but not judged") is never relevant and has no gain. An item without a
/// judgement is not relevant either.
///
/// ```swift
/// var judgements = Judgements<String>()
/// judgements.setGrade(2, for: "doc7")
/// let exact = Judgements(relevant: exactNeighbours)   // binary, grade 1 each
/// ```
///
/// The ranking measures (``Recall``, ``Precision``, ``NDCG``,
/// ``ReciprocalRank``, ``AveragePrecision``, ``RPrecision``, ``HitRate``)
/// take a ranking and the query's judgements; see ``Measure`` for the
/// edge-case policy they share.
public struct Judgements<ID: Hashable> {
    /// Each judged item's grade.
    public private(set) var grades: [ID: Int]

    /// How many judged items are relevant (grade ≥ 1): trec_eval's `num_rel`.
    public private(set) var relevantCount: Int

    /// No judgements: nothing is relevant.
    public init() {
        grades = [:]
        relevantCount = 0
    }

    /// Judgements with the given grades.
    public init(grades: [ID: Int]) {
        self.grades = grades
        relevantCount = grades.values.reduce(0) { $0 + ($1 >= 1 ? 1 : 0) }
    }

    /// Binary judgements: each of `ids` is relevant with grade 1 (a repeated
    /// id counts once), everything else is unjudged.
    ///
    /// This is how exact nearest neighbours become judgements for an
    /// approximate index.
    public init<S: Sequence>(relevant ids: S) where S.Element == ID {
        var grades: [ID: Int] = [:]
        for id in ids { grades[id] = 1 }
        self.init(grades: grades)
    }

    /// The grade of `id`, or `nil` when it was not judged.
    @inlinable
    public subscript(id: ID) -> Int? { grades[id] }

    /// Whether `id` is relevant: judged with a grade of at least 1.
    @inlinable
    public func isRelevant(_ id: ID) -> Bool { (grades[id] ?? 0) >= 1 }

    /// Judges `id` with `grade`, replacing an earlier judgement.
    public mutating func setGrade(_ grade: Int, for id: ID) {
        if let old = grades.updateValue(grade, forKey: id), old >= 1 { relevantCount -= 1 }
        if grade >= 1 { relevantCount += 1 }
    }

    /// The number of judged items, relevant or not.
    public var count: Int { grades.count }

    /// True when nothing is judged.
    public var isEmpty: Bool { grades.isEmpty }

    /// The gains of the best possible ranking, best first, at most `limit` of
    /// them: the positive grades sorted in descending order, mapped through
    /// `gain`.
    func idealGains(_ gain: NDCG.Gain, limit: Int) -> [Double] {
        let positive = grades.values.filter { $0 > 0 }.sorted(by: >)
        return positive.prefix(limit).map { gain.value(ofGrade: Double($0)) }
    }
}

extension Judgements: Equatable {
    /// Two sets of judgements are equal when they grade the same items the same.
    public static func == (lhs: Judgements, rhs: Judgements) -> Bool { lhs.grades == rhs.grades }
}

extension Judgements: Sendable where ID: Sendable {}
