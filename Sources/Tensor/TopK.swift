/// Keeps the `k` smallest keys seen so far, with their payloads: a bounded
/// max-heap, reused across queries without allocating.
///
/// Search loops feed every candidate's distance through ``consider(_:_:)``;
/// ``threshold`` says how close a candidate must be to matter, so a loop can
/// skip work early. NaN keys are never kept.
///
/// ```swift
/// var top = TopKSelector(k: 10)
/// for (i, d) in distances.enumerated() { top.consider(d, Int32(i)) }
/// let best = top.sorted()       // closest first
/// ```
public struct TopKSelector: Sendable {
    /// The number of entries kept.
    public private(set) var k: Int
    @usableFromInline var keys: [Float]
    @usableFromInline var payloads: [Int32]
    @usableFromInline var size = 0

    /// A selector for the `k` smallest keys. Precondition: `k >= 0`.
    public init(k: Int) {
        precondition(k >= 0, "top-k needs k >= 0, got \(k)")
        self.k = k
        keys = [Float](repeating: 0, count: k)
        payloads = [Int32](repeating: 0, count: k)
    }

    /// Forgets everything, keeping capacity; `k` may change (allocates only when it grows).
    public mutating func reset(k newK: Int? = nil) {
        if let newK, newK != k {
            precondition(newK >= 0, "top-k needs k >= 0, got \(newK)")
            k = newK
            if keys.count < newK {
                keys = [Float](repeating: 0, count: newK)
                payloads = [Int32](repeating: 0, count: newK)
            }
        }
        size = 0
    }

    /// The number of entries held (at most `k`).
    @inlinable public var count: Int { size }

    /// The largest key kept once full, else +Inf: a candidate must be below it to enter.
    @inlinable public var threshold: Float { size < k ? .infinity : keys[0] }

    /// Offers one candidate.
    @inlinable
    public mutating func consider(_ key: Float, _ payload: Int32) {
        guard k > 0, !key.isNaN else { return }
        if size < k {
            var i = size
            size += 1
            keys.withUnsafeMutableBufferPointer { keys in
                payloads.withUnsafeMutableBufferPointer { payloads in
                    while i > 0 {
                        let parent = (i - 1) / 2
                        if keys[parent] >= key { break }
                        keys[i] = keys[parent]
                        payloads[i] = payloads[parent]
                        i = parent
                    }
                    keys[i] = key
                    payloads[i] = payload
                }
            }
        } else if key < keys[0] {
            let n = size
            keys.withUnsafeMutableBufferPointer { keys in
                payloads.withUnsafeMutableBufferPointer { payloads in
                    var i = 0
                    while true {
                        let left = 2 * i + 1
                        if left >= n { break }
                        let right = left + 1
                        let child = right < n && keys[right] > keys[left] ? right : left
                        if keys[child] <= key { break }
                        keys[i] = keys[child]
                        payloads[i] = payloads[child]
                        i = child
                    }
                    keys[i] = key
                    payloads[i] = payload
                }
            }
        }
    }

    /// The entries kept, smallest key first; ties by smaller payload.
    public func sorted() -> [(key: Float, payload: Int32)] {
        var result: [(key: Float, payload: Int32)] = []
        result.reserveCapacity(size)
        for i in 0..<size { result.append((keys[i], payloads[i])) }
        result.sort { $0.key < $1.key || ($0.key == $1.key && $0.payload < $1.payload) }
        return result
    }
}

extension VectorMath {
    /// The indices and values of the `k` largest (or smallest) scores, best first.
    ///
    /// NaN scores are skipped; ties are broken by the lower index. Returns
    /// fewer than `k` entries when fewer non-NaN scores exist.
    public static func topK(
        _ scores: UnsafeBufferPointer<Float>, k: Int, largest: Bool = true
    ) -> [(index: Int, value: Float)] {
        precondition(k >= 0, "top-k needs k >= 0, got \(k)")
        precondition(scores.count <= Int(Int32.max), "top-k over more than 2³¹ scores")
        var selector = TopKSelector(k: Swift.min(k, scores.count))
        for (i, s) in scores.enumerated() { selector.consider(largest ? -s : s, Int32(i)) }
        return selector.sorted().map { (Int($0.payload), largest ? -$0.key : $0.key) }
    }
}
