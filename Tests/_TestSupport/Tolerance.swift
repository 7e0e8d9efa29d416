/// Tolerances for comparing float kernels against double-precision references.
public enum Tolerance {
    /// The bound for a float reduction of `n` terms against the exact sum:
    /// each partial sum may round once (relative error 2⁻²⁴), and error grows
    /// at worst linearly and in practice like √n; `sumOfMagnitudes` (Σ|term|)
    /// scales it. We allow `4·n·ε·Σ|term|` — the deterministic worst case for
    /// pairwise/blocked summation is well inside this — plus a tiny absolute floor.
    public static func reduction(terms n: Int, sumOfMagnitudes: Double) -> Double {
        let epsilon = Double(Float.ulpOfOne) / 2
        return 4 * Double(max(n, 1)) * epsilon * sumOfMagnitudes + 1e-30
    }

    /// Whether `actual` is within `tolerance` of `expected`.
    public static func isClose(_ actual: Double, _ expected: Double, within tolerance: Double) -> Bool {
        abs(actual - expected) <= tolerance
    }
}
