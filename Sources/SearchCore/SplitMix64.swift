import Foundation

/// A small, fast, seedable random number generator (SplitMix64; Steele, Lea
/// & Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014).
///
/// The same seed gives the same stream on every platform, which is what
/// reproducible index builds, simulations, training and test data need. Not
/// for anything that must be unpredictable.
///
/// ```swift
/// var rng = SplitMix64(seed: 42)
/// let level = Int.random(in: 0..<16, using: &rng)
/// ```
@frozen
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
    @usableFromInline var state: UInt64

    /// A generator seeded with `seed`.
    @inlinable
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in [0, 1), from 53 random bits.
    @inlinable
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A standard normal draw (Box–Muller, one of the pair).
    public mutating func normal() -> Double {
        let u = 1 - uniform()  // (0, 1], so the logarithm is finite
        let v = uniform()
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * .pi * v)
    }
}
