import Foundation

/// Student's t distribution, for the paired t test's p-value.
///
/// The two-sided tail probability P(|T| ≥ t) with ν degrees of freedom is the
/// regularised incomplete beta function I_x(ν/2, ½) at x = ν / (ν + t²),
/// evaluated by its continued fraction (modified Lentz), which converges to
/// double precision in a few dozen terms for every x in [0, 1] once the
/// symmetry I_x(a, b) = 1 − I_{1−x}(b, a) picks the faster side. Agrees with
/// `scipy.stats.t.sf` (Cephes) to about 1e-14 relative.
enum StudentT {
    /// P(|T| ≥ |t|) for ν degrees of freedom; 1 at t = 0, 0 at ±∞, NaN for NaN.
    static func twoSidedTail(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        if t.isNaN || nu.isNaN || nu <= 0 { return .nan }
        if t.isInfinite { return 0 }
        if t == 0 { return 1 }
        let x = nu / (nu + t * t)
        return regularizedIncompleteBeta(x, a: nu / 2, b: 0.5)
    }

    /// I_x(a, b) for a, b > 0 and x in [0, 1].
    static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        // ln(x^a (1−x)^b / (a B(a, b))), the prefactor of the continued fraction.
        let logPrefactor = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x)
        if x < (a + 1) / (a + b + 2) {
            return exp(logPrefactor) * continuedFraction(x, a: a, b: b) / a
        }
        return 1 - exp(logPrefactor) * continuedFraction(1 - x, a: b, b: a) / b
    }

    /// The continued fraction of I_x(a, b) (Abramowitz & Stegun 26.5.8), by
    /// the modified Lentz method.
    private static func continuedFraction(_ x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300
        let epsilon = 1e-16
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var result = d
        for m in 1...10_000 {
            let m = Double(m)
            // Even step: d_{2m} = m(b − m)x / ((a + 2m − 1)(a + 2m)).
            var numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + numerator * d
            if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            result *= d * c
            // Odd step: d_{2m+1} = −(a + m)(a + b + m)x / ((a + 2m)(a + 2m + 1)).
            numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + numerator * d
            if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let step = d * c
            result *= step
            if abs(step - 1) < epsilon { break }
        }
        return result
    }
}
