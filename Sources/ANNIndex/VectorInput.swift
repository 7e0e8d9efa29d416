import SearchCore
import Tensor

/// Checks and prepares the float vectors callers hand to an index.
///
/// Every index validates a whole batch before it changes anything, so a
/// throwing `add` leaves the index as it was.
enum VectorInput {
    /// Throws unless `vectors` holds `rows` whole vectors of `dimension`
    /// finite components, none zero under cosine.
    static func validate(
        _ vectors: UnsafeBufferPointer<Float>, rows: Int, dimension: Int, metric: Metric, kernels: Kernels,
        what: String = "vector"
    ) throws(SearchError) {
        guard vectors.count == rows * dimension else {
            throw SearchError(
                .dimensionMismatch,
                "\(vectors.count) floats do not make \(rows) \(what)s of \(dimension) components")
        }
        guard let base = vectors.baseAddress else { return }
        for r in 0..<rows {
            let row = base + r * dimension
            // maxMagnitude is NaN when any component is NaN and +Inf when one is infinite.
            let peak = kernels.maxMagnitude(row, count: dimension)
            guard peak.isFinite else {
                throw SearchError(.invalidVector, "\(what) \(r) has a NaN or infinite component")
            }
            if metric == .cosine && peak == 0 {
                throw SearchError(.invalidVector, "\(what) \(r) is zero, which has no direction under cosine")
            }
        }
    }

    /// Throws if `ids` names one identifier twice.
    static func checkUnique(_ ids: [VectorID]) throws(SearchError) {
        guard ids.count > 1 else { return }
        var seen = Set<VectorID>(minimumCapacity: ids.count)
        for id in ids where !seen.insert(id).inserted {
            throw SearchError(.duplicateID, "identifier \(id) appears twice in one batch")
        }
    }

    /// Copies `count` floats to `destination`, scaled to unit length when
    /// `normalize` is set (cosine stores and compares unit vectors).
    @inline(__always)
    static func copy(
        _ source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>, count: Int, normalize: Bool,
        kernels: Kernels
    ) {
        if normalize {
            let norm = kernels.sumOfSquares(source, count: count).squareRoot()
            let inverse = norm > 0 ? 1 / norm : 0
            for i in 0..<count { destination[i] = source[i] * inverse }
        } else {
            destination.update(from: source, count: count)
        }
    }
}
