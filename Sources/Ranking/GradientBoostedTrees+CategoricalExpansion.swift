/// Categorical splits as small searches over numerical thresholds, so models
/// with categorical features take the branch-free paths too.
///
/// LightGBM sends x left when x is not NaN, c = Int32(trunc(x)) ≥ 0 and bit c
/// of the node's bitset is set; everything else goes right. Category 0 is
/// every x in (−1, 1), category c ≥ 1 every x in [c, c + 1). So the real
/// line splits at −1 and at each integer 1 … 32·words into regions labelled
/// left or right (below −1 and past the bitset: right). Adjacent regions
/// with the same label merge; a balanced search over the remaining
/// boundaries decides the region with `x > boundary` steps, where "x ≥ k"
/// is `x > k.nextDown` (exact: doubles are discrete). The search reads the
/// widened copy in which NaN is +∞, past every boundary, in a right region.
extension GradientBoostedTrees {
    /// A node of an expanded categorical split: a numerical test, or an exit
    /// to the split's left (false) or right (true) child.
    enum SearchStep {
        case test(threshold: Double, below: Int, above: Int)
        case exit(right: Bool)
    }

    /// The search that decides a categorical split with bitset `words`; the
    /// first step is the root. Nil when the bitset reaches past 2³¹ (where
    /// LightGBM's cast would overflow).
    static func categoricalSearch(_ words: ArraySlice<UInt32>) -> [SearchStep]? {
        guard words.count <= (1 << 26) else { return nil }
        // Boundaries and the label of the region above each: region i is
        // (boundary[i−1], boundary[i]], region 0 = (−∞, boundary[0]].
        var boundaries: [Double] = [-1]
        var labels: [Bool] = [false]  // true = left; below −1: right
        let categories = words.count * 32
        func inSet(_ c: Int) -> Bool { (words[words.startIndex + c >> 5] >> UInt32(c & 31)) & 1 != 0 }
        labels.append(categories > 0 && inSet(0))  // (−1, 1): category 0
        for c in 1..<max(categories, 1) {
            let left = inSet(c)
            if left != labels.last! {
                boundaries.append(Double(c).nextDown)
                labels.append(left)
            }
        }
        if labels.last! {  // past the bitset: right
            boundaries.append(Double(max(categories, 1)).nextDown)
            labels.append(false)
        }
        // Balanced search over regions lo...hi (inclusive), boundaries between them.
        var steps: [SearchStep] = []
        func build(_ lo: Int, _ hi: Int) -> Int {
            let index = steps.count
            if lo == hi {
                steps.append(.exit(right: !labels[lo]))
                return index
            }
            steps.append(.exit(right: true))  // placeholder
            let mid = (lo + hi) / 2  // x > boundaries[mid] means region mid + 1 or above
            let below = build(lo, mid)
            let above = build(mid + 1, hi)
            steps[index] = .test(threshold: boundaries[mid], below: below, above: above)
            return index
        }
        _ = build(0, labels.count - 1)
        return steps
    }
}
