import SearchCore

/// How an ``HNSWIndex`` stores vectors.
///
/// Raw values are stable (they will be written to disk by the persistent index).
public enum VectorEncoding: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// float32: 4 bytes a component, exact.
    case float32 = 1
    /// IEEE binary16: 2 bytes a component, relative error about 2⁻¹¹.
    case float16 = 2
    /// int8 with one max-abs scale per vector: 1 byte a component plus 8 bytes
    /// (scale, squared norm). Unlike a scale of 127/‖x‖ it uses all 255 levels
    /// for every vector, so ranking survives at d = 512.
    case int8 = 3

    public var description: String {
        switch self {
        case .float32: "f32"
        case .float16: "f16"
        case .int8: "i8"
        }
    }
}

extension HNSWIndex {
    /// The knobs of an HNSW graph, named after Malkov & Yashunin (2018),
    /// "Efficient and robust approximate nearest neighbor search using
    /// Hierarchical Navigable Small World graphs", with the defaults of the
    /// libraries people compare against.
    ///
    /// ```swift
    /// var configuration = HNSWIndex.Configuration()
    /// configuration.m = 32
    /// configuration.encoding = .int8
    /// let index = try HNSWIndex(dimension: 512, metric: .innerProduct, configuration: configuration)
    /// ```
    public struct Configuration: Sendable, Hashable {
        /// *M*: the number of neighbours a new element is linked to on every
        /// layer, and the most an element keeps on layers above 0 (*M_max*).
        /// hnswlib 16, FAISS `IndexHNSWFlat` 32, usearch 16. Range 2...256.
        public var m: Int = 16

        /// *M_max0*: the most neighbours an element keeps on layer 0. The paper
        /// and hnswlib use 2·*M*; `nil` means 2·*M*.
        public var maxNeighborsLayer0: Int? = nil

        /// *efConstruction*: the size of the dynamic candidate list while
        /// inserting. hnswlib 200, FAISS 40, usearch 128. At least *M*.
        public var efConstruction: Int = 200

        /// *ef*: the size of the dynamic candidate list while searching, when a
        /// search does not pass its own; raised to *k* when smaller.
        /// hnswlib 10, FAISS 16, usearch 64.
        public var efSearch: Int = 64

        /// *m_L*: the level-generation factor; a new element's top layer is
        /// ⌊−ln(U(0,1))·*m_L*⌋. `nil` means 1/ln(*M*), the paper's choice and
        /// every anchor's.
        public var levelMultiplier: Double? = nil

        /// How vectors are stored in the graph.
        public var encoding: VectorEncoding = .float32

        /// With ``VectorEncoding/float16`` or ``VectorEncoding/int8``: also keep
        /// the float32 vectors, and re-score an oversampled candidate list
        /// with them. On by default; off halves (f16) or quarters (i8) the
        /// memory at some cost in recall. Off with int8 is the int8-only mode:
        /// the oversampled list is re-ranked from the int8 codes with the
        /// query left in float32 (the traversal quantises the query too).
        /// Ignored for float32. See ``HNSWIndex/bytesPerVector(dimension:metric:configuration:)``.
        public var keepsFloat32ForRescoring: Bool = true

        /// How many candidates per requested hit are re-scored exactly, or in
        /// the int8-only mode re-ranked from the codes (at most *ef*): 4
        /// re-scores an int8 top-40 for k = 10.
        public var rescoringOversampling: Int = 4

        /// Below this estimated fraction of allowed live vectors, a filtered
        /// search scans the allowed vectors exactly instead of traversing the
        /// graph (where it would visit roughly *ef*/fraction nodes).
        public var exactScanBelowSelectivity: Double = 0.02

        /// Seed of the level generator. With one build thread, the same seed
        /// and the same inserts give the same graph byte for byte.
        public var seed: UInt64 = 100

        /// Threads used by a batch `add`; 1 is deterministic.
        public var buildThreads: Int = 1

        public init() {}

        /// *M_max0* as used.
        public var resolvedMaxNeighborsLayer0: Int { maxNeighborsLayer0 ?? 2 * m }

        /// *m_L* as used.
        public var resolvedLevelMultiplier: Double { levelMultiplier ?? 1 / log(Double(m)) }

        /// Throws ``SearchError/Code/invalidArgument`` naming the first knob out of range.
        public func validate() throws(SearchError) {
            func fail(_ message: String) -> SearchError { SearchError(.invalidArgument, message) }
            guard (2...256).contains(m) else { throw fail("M must be in 2...256; got \(m)") }
            if let m0 = maxNeighborsLayer0, !(m...1024).contains(m0) {
                throw fail("M_max0 must be in M...1024 (M = \(m)); got \(m0)")
            }
            guard efConstruction >= m, efConstruction <= 1 << 16 else {
                throw fail("efConstruction must be in M...65536 (M = \(m)); got \(efConstruction)")
            }
            guard efSearch >= 1, efSearch <= 1 << 16 else {
                throw fail("efSearch must be in 1...65536; got \(efSearch)")
            }
            if let mL = levelMultiplier, !(mL > 0 && mL.isFinite && mL <= 10) {
                throw fail("the level multiplier m_L must be in (0, 10]; got \(mL)")
            }
            guard (1...64).contains(rescoringOversampling) else {
                throw fail("rescoring oversampling must be in 1...64; got \(rescoringOversampling)")
            }
            guard exactScanBelowSelectivity >= 0 && exactScanBelowSelectivity <= 1 else {
                throw fail("exactScanBelowSelectivity must be in 0...1; got \(exactScanBelowSelectivity)")
            }
            guard (1...256).contains(buildThreads) else {
                throw fail("buildThreads must be in 1...256; got \(buildThreads)")
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
