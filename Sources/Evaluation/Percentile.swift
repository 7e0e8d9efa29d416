import SearchCore

/// Percentiles of a sample, by linear interpolation between order
/// statistics: NumPy's default (`numpy.percentile(…, method="linear")`,
/// Hyndman & Fan's definition 7, also R's default `quantile` type 7).
///
/// For n sorted values x₀ ≤ … ≤ xₙ₋₁ and a percentile p in [0, 100], let
/// h = (n − 1) · p / 100; the percentile is x⌊h⌋ + (h − ⌊h⌋) · (x⌊h⌋₊₁ − x⌊h⌋).
/// So p50 of an even-sized sample is the mean of the two middle values, p100
/// is the maximum, and with one value every percentile is that value. This
/// differs from the *nearest-rank* definition (which always returns a value
/// of the sample) by at most one gap between neighbouring values.
public enum Percentile {
    /// The `p`-th percentile of `sorted`, which must be in ascending order.
    ///
    /// - Precondition: `sorted` is non-empty and ascending, and `p` is in
    ///   [0, 100]: callers sort once and ask for several percentiles.
    public static func linear(_ p: Double, ofSorted sorted: [Double]) -> Double {
        precondition(!sorted.isEmpty, "a percentile of no values is undefined")
        precondition(p >= 0 && p <= 100, "percentile \(p) is outside [0, 100]")
        let h = Double(sorted.count - 1) * (p / 100)
        let lower = Int(h.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        let fraction = h - Double(lower)
        return sorted[lower] + fraction * (sorted[upper] - sorted[lower])
    }

    /// The `p`-th percentile of `values`, in any order.
    ///
    /// - Throws: `SearchError.Code.invalidArgument` when `values` is empty
    ///   or holds NaN, or `p` is outside [0, 100].
    public static func linear(_ p: Double, of values: [Double]) throws(SearchError) -> Double {
        guard p >= 0 && p <= 100 else {
            throw SearchError(.invalidArgument, "percentile \(p) is outside [0, 100]")
        }
        guard !values.isEmpty, !values.contains(where: \.isNaN) else {
            throw SearchError(.invalidArgument, "a percentile needs at least one value and no NaN")
        }
        return linear(p, ofSorted: values.sorted())
    }
}
