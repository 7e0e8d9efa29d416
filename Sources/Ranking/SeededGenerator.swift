import SearchCore

/// The seeded generator simulations and training draw from: SearchCore's
/// ``SearchCore/SplitMix64`` (the same seed gives the same stream on every
/// platform), under the name Ranking's API has always used.
public typealias SeededGenerator = SplitMix64
