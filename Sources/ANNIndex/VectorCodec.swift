import SearchCore
import Tensor

/// A query made ready for one codec's distance: a pointer into the caller's
/// scratch (or into stored codes) and the scalars the codec needs.
@usableFromInline
struct PreparedQuery {
    @usableFromInline var pointer: UnsafeRawPointer
    /// The int8 query's scale (int8 codec only).
    @usableFromInline var scale: Float
    /// ‖q‖² (int8 codec under squared L2 only).
    @usableFromInline var squaredNorm: Float

    @inlinable @inline(__always)
    init(pointer: UnsafeRawPointer, scale: Float = 1, squaredNorm: Float = 0) {
        self.pointer = pointer
        self.scale = scale
        self.squaredNorm = squaredNorm
    }
}

/// How one ``VectorEncoding`` stores a vector and measures a distance to it.
///
/// The graph is generic over its codec, so the distance call in the search
/// loop is specialised: a direct call of the C kernel the ``Kernels`` table
/// resolved once, never an existential or a closure. Distances are those of
/// ``Metric``: ‖q − x‖², or 1 − q·x (cosine vectors are unit length).
@usableFromInline
protocol VectorCodec: Sendable {
    var dimension: Int { get }
    /// Bytes of one stored code.
    var codeBytes: Int { get }
    /// Bytes of scratch one prepared query needs.
    var queryScratchBytes: Int { get }

    /// Encodes `dimension` floats (already normalised under cosine).
    func encode(_ vector: UnsafePointer<Float>, into code: UnsafeMutableRawPointer)
    /// Decodes a code back to floats (approximately, for f16 and i8).
    func decode(_ code: UnsafeRawPointer, into vector: UnsafeMutablePointer<Float>)
    /// Prepares a float query, using `scratch` if the codec needs to.
    func prepare(query: UnsafePointer<Float>, scratch: UnsafeMutableRawPointer) -> PreparedQuery
    /// Prepares a stored code as a query (graph construction).
    func prepare(code: UnsafeRawPointer, scratch: UnsafeMutableRawPointer) -> PreparedQuery
    /// The distance from a prepared query to a stored code.
    func distance(_ query: PreparedQuery, _ code: UnsafeRawPointer) -> Float
    /// True when ``refinedDistance(_:_:scratch:)`` is closer to the float32
    /// distance than ``distance(_:_:)``, so that without float32 originals a
    /// search re-ranks its candidates with it.
    var refinesFromCode: Bool { get }
    /// The distance from the float query itself (normalised under cosine) to
    /// the decoded code, using `scratch` (`dimension` floats).
    func refinedDistance(_ query: UnsafePointer<Float>, _ code: UnsafeRawPointer, scratch: UnsafeMutablePointer<Float>) -> Float
}

extension VectorCodec {
    @inlinable var refinesFromCode: Bool { false }

    @inlinable
    func refinedDistance(_ query: UnsafePointer<Float>, _ code: UnsafeRawPointer, scratch: UnsafeMutablePointer<Float>) -> Float {
        distance(PreparedQuery(pointer: UnsafeRawPointer(query)), code)
    }
}

/// float32 codes.
@usableFromInline
struct Float32Codec: VectorCodec {
    @usableFromInline let dimension: Int
    @usableFromInline let isL2: Bool
    @usableFromInline let kernels: Kernels

    init(dimension: Int, metric: Metric, kernels: Kernels) {
        self.dimension = dimension
        isL2 = metric == .squaredL2
        self.kernels = kernels
    }

    @usableFromInline var codeBytes: Int { dimension * 4 }
    @usableFromInline var queryScratchBytes: Int { 0 }

    @usableFromInline
    func encode(_ vector: UnsafePointer<Float>, into code: UnsafeMutableRawPointer) {
        code.copyMemory(from: vector, byteCount: dimension * 4)
    }

    @usableFromInline
    func decode(_ code: UnsafeRawPointer, into vector: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(vector).copyMemory(from: code, byteCount: dimension * 4)
    }

    @inlinable @inline(__always)
    func prepare(query: UnsafePointer<Float>, scratch: UnsafeMutableRawPointer) -> PreparedQuery {
        PreparedQuery(pointer: UnsafeRawPointer(query))
    }

    @inlinable @inline(__always)
    func prepare(code: UnsafeRawPointer, scratch: UnsafeMutableRawPointer) -> PreparedQuery {
        PreparedQuery(pointer: code)
    }

    @inlinable @inline(__always)
    func distance(_ query: PreparedQuery, _ code: UnsafeRawPointer) -> Float {
        let q = query.pointer.assumingMemoryBound(to: Float.self)
        let x = code.assumingMemoryBound(to: Float.self)
        return isL2 ? kernels.squaredL2(q, x, count: dimension) : 1 - kernels.dot(q, x, count: dimension)
    }
}

/// IEEE binary16 codes; queries stay float32 (the f32×f16 kernels convert on the fly).
@usableFromInline
struct Float16Codec: VectorCodec {
    @usableFromInline let dimension: Int
    @usableFromInline let isL2: Bool
    @usableFromInline let kernels: Kernels

    init(dimension: Int, metric: Metric, kernels: Kernels) {
        self.dimension = dimension
        isL2 = metric == .squaredL2
        self.kernels = kernels
    }

    @usableFromInline var codeBytes: Int { dimension * 2 }
    @usableFromInline var queryScratchBytes: Int { dimension * 4 }

    @usableFromInline
    func encode(_ vector: UnsafePointer<Float>, into code: UnsafeMutableRawPointer) {
        kernels.convert(vector, to: code.assumingMemoryBound(to: Half.self), count: dimension)
    }

    @usableFromInline
    func decode(_ code: UnsafeRawPointer, into vector: UnsafeMutablePointer<Float>) {
        kernels.convert(code.assumingMemoryBound(to: Half.self), to: vector, count: dimension)
    }

    @inlinable @inline(__always)
    func prepare(query: UnsafePointer<Float>, scratch: UnsafeMutableRawPointer) -> PreparedQuery {
        PreparedQuery(pointer: UnsafeRawPointer(query))
    }

    @inlinable @inline(__always)
    func prepare(code: UnsafeRawPointer, scratch: UnsafeMutableRawPointer) -> PreparedQuery {
        let floats = scratch.assumingMemoryBound(to: Float.self)
        decode(code, into: floats)
        return PreparedQuery(pointer: UnsafeRawPointer(floats))
    }

    @inlinable @inline(__always)
    func distance(_ query: PreparedQuery, _ code: UnsafeRawPointer) -> Float {
        let q = query.pointer.assumingMemoryBound(to: Float.self)
        let x = code.assumingMemoryBound(to: Half.self)
        return isL2 ? kernels.squaredL2(q, x, count: dimension) : 1 - kernels.dot(q, x, count: dimension)
    }
}

/// int8 codes with one max-abs scale per vector.
///
/// Code layout, little-endian: `dimension` int8 components padded with zeros
/// to a multiple of 4 bytes (so they start on the node's 64-byte boundary and
/// a 64-byte load never straddles two cache lines), then `scale: Float32`
/// (max |x| / 127) and `squaredNorm: Float32` (‖x‖² of the float vector).
/// Queries are quantised the same way, so a distance is one int8 dot (VNNI
/// where present): q·x ≈ s_q·s_x·Σ q̂ᵢx̂ᵢ, and ‖q − x‖² = ‖q‖² + ‖x‖² − 2 q·x.
@usableFromInline
struct Int8Codec: VectorCodec {
    @usableFromInline let dimension: Int
    @usableFromInline let isL2: Bool
    @usableFromInline let kernels: Kernels
    /// Byte offset of the scale; the squared norm follows it.
    @usableFromInline let scaleOffset: Int

    init(dimension: Int, metric: Metric, kernels: Kernels) {
        self.dimension = dimension
        isL2 = metric == .squaredL2
        self.kernels = kernels
        scaleOffset = (dimension + 3) & ~3
    }

    @usableFromInline var codeBytes: Int { scaleOffset + 8 }
    @usableFromInline var queryScratchBytes: Int { scaleOffset }

    @usableFromInline
    func encode(_ vector: UnsafePointer<Float>, into code: UnsafeMutableRawPointer) {
        let peak = kernels.maxMagnitude(vector, count: dimension)
        let scale = peak > 0 ? peak / 127 : 1
        let bytes = code.assumingMemoryBound(to: Int8.self)
        kernels.quantize(vector, count: dimension, inverseScale: 1 / scale, into: bytes)
        for i in dimension..<scaleOffset { bytes[i] = 0 }
        code.storeBytes(of: scale, toByteOffset: scaleOffset, as: Float.self)
        code.storeBytes(of: kernels.sumOfSquares(vector, count: dimension), toByteOffset: scaleOffset + 4, as: Float.self)
    }

    @usableFromInline
    func decode(_ code: UnsafeRawPointer, into vector: UnsafeMutablePointer<Float>) {
        let scale = code.load(fromByteOffset: scaleOffset, as: Float.self)
        kernels.dequantize(code.assumingMemoryBound(to: Int8.self), count: dimension, scale: scale, into: vector)
    }

    @inlinable @inline(__always)
    func prepare(query: UnsafePointer<Float>, scratch: UnsafeMutableRawPointer) -> PreparedQuery {
        let peak = kernels.maxMagnitude(query, count: dimension)
        let scale = peak > 0 ? peak / 127 : 1
        kernels.quantize(query, count: dimension, inverseScale: 1 / scale, into: scratch.assumingMemoryBound(to: Int8.self))
        return PreparedQuery(
            pointer: UnsafeRawPointer(scratch), scale: scale,
            squaredNorm: isL2 ? kernels.sumOfSquares(query, count: dimension) : 0)
    }

    @inlinable @inline(__always)
    func prepare(code: UnsafeRawPointer, scratch: UnsafeMutableRawPointer) -> PreparedQuery {
        PreparedQuery(
            pointer: code, scale: code.load(fromByteOffset: scaleOffset, as: Float.self),
            squaredNorm: code.load(fromByteOffset: scaleOffset + 4, as: Float.self))
    }

    @inlinable @inline(__always)
    func distance(_ query: PreparedQuery, _ code: UnsafeRawPointer) -> Float {
        let raw = kernels.dot(
            query.pointer.assumingMemoryBound(to: Int8.self), code.assumingMemoryBound(to: Int8.self), count: dimension)
        let dot = Float(raw) * query.scale * code.load(fromByteOffset: scaleOffset, as: Float.self)
        if isL2 {
            return max(query.squaredNorm + code.load(fromByteOffset: scaleOffset + 4, as: Float.self) - 2 * dot, 0)
        }
        return 1 - dot
    }

    /// The traversal quantises the query too; re-ranking from the float query
    /// removes the query's share of the error (the int8-only mode's re-rank).
    @usableFromInline var refinesFromCode: Bool { true }

    /// q·x̂ with x̂ = s_x·x̂ᵢ decoded into `scratch`: the query stays float32.
    @inlinable
    func refinedDistance(_ query: UnsafePointer<Float>, _ code: UnsafeRawPointer, scratch: UnsafeMutablePointer<Float>) -> Float {
        decode(code, into: scratch)
        return isL2 ? kernels.squaredL2(query, scratch, count: dimension) : 1 - kernels.dot(query, scratch, count: dimension)
    }
}
