/// How the fast and chained paths widen a row so that one `x > threshold`
/// decides every numerical node, whatever its missing-value rule.
///
/// A feature becomes up to four columns (M = `Double.greatestFiniteMagnitude`;
/// ±∞ inputs are clamped to ±M in all of them):
///
/// | copy | NaN becomes | \|x\| ≤ 1e-35 becomes | read by nodes whose |
/// | --- | --- | --- | --- |
/// | 0 | −M | x | NaN goes left (missing type NaN, or None with 0 ≤ threshold) |
/// | 1 | +∞ | x | NaN goes right (missing type NaN, or None with 0 > threshold) |
/// | 2 | −M | −M | missing type Zero, default left |
/// | 3 | +∞ | +∞ | missing type Zero, default right |
///
/// Copies 2 and 3 exist only when the model has Zero-type nodes. A
/// threshold of +∞ becomes M. Exact when every threshold is +∞ or strictly
/// between −M and M (`Tree::NumericalDecision` compares `x <= threshold`;
/// NaN counts as 0 unless the missing type is NaN; a Zero-type node sends
/// |x| ≤ 1e-35, NaN included, to its default side).
extension GradientBoostedTrees {
    /// The copy (0–3) a numerical node reads; see the table above.
    static func widenedCopy(of node: Node) -> Int {
        switch node.kind {
        case .numericalZeroMissing: return node.zeroRight != 0 ? 3 : 2
        default: return node.nanRight != 0 ? 1 : 0
        }
    }

    /// The value of copy `copy` for input `x`.
    @inline(__always)
    static func widened(_ x: Double, copy: Int) -> Double {
        let m = Double.greatestFiniteMagnitude
        let clamped = Swift.min(Swift.max(lightGBMInput(x), -m), m)
        switch copy {
        case 0: return x.isNaN ? -m : clamped
        case 1: return x.isNaN ? .infinity : clamped
        case 2: return x.isNaN || abs(x) <= zeroThreshold ? -m : clamped
        default: return x.isNaN || abs(x) <= zeroThreshold ? .infinity : clamped
        }
    }

    /// A feature as LightGBM's predictor sees it: its dense-row conversion
    /// (`RowPairFunctionFromDenseMatric`) keeps only values with
    /// |x| > 1e-35 or NaN, so a smaller value (−0 included) reads as 0.
    @inline(__always)
    static func lightGBMInput(_ x: Double) -> Double { abs(x) <= zeroThreshold ? 0 : x }

    /// Copies per feature: 4 when any node has missing type Zero, else 2.
    var widenedCopies: Int { hardestKind == .numericalZeroMissing ? 4 : 2 }
}
