import CSearchKernels

/// An instruction-set level of the C kernels. Raw values are stable.
///
/// Levels order by raw value, which within one architecture means by width
/// (x86-64: portable < avx2 < avx512; arm64: portable < neon < neonDotProduct);
/// a level of the other architecture is never supported, so comparing across
/// architectures has no use.
public enum KernelLevel: Int, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    /// Plain C written so any compiler vectorises it (SSE2, NEON); always present.
    case portable = 0
    /// x86-64: AVX2 with FMA and F16C.
    case avx2 = 1
    /// x86-64: AVX-512 F/BW/VL/DQ with VNNI.
    case avx512 = 2
    /// arm64: Advanced SIMD (NEON), half-precision conversions included.
    case neon = 3
    /// arm64: NEON with the Armv8.2 dot-product extension (SDOT) for the int8 kernels.
    case neonDotProduct = 4

    public static func < (lhs: KernelLevel, rhs: KernelLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The levels this build has variants for, lowest first: `portable`, `avx2`,
    /// `avx512` on x86-64; `portable`, `neon`, `neonDotProduct` on arm64;
    /// `portable` elsewhere. The CPU offers each of them up to
    /// ``Kernels/bestSupportedLevel`` (see ``Kernels/supported``).
    public static var architectureLevels: [KernelLevel] {
        #if arch(x86_64)
        [.portable, .avx2, .avx512]
        #elseif arch(arm64)
        [.portable, .neon, .neonDotProduct]
        #else
        [.portable]
        #endif
    }

    /// The name `MMS_KERNELS` takes for this level.
    public var description: String {
        switch self {
        case .portable: "portable"
        case .avx2: "avx2"
        case .avx512: "avx512"
        case .neon: "neon"
        case .neonDotProduct: "neon_dotprod"
        }
    }
}

/// One variant of every hot numeric kernel, resolved once.
///
/// ``Kernels/active`` is the variant this process uses: the best the CPU
/// supports, lowered by the environment variable `MMS_KERNELS` (`portable`,
/// `avx2`, `avx512` on x86-64; `portable`, `neon`, `neon_dotprod` on arm64) so a
/// test run can force the portable code. Tests reach every supported variant
/// through ``Kernels/init(level:)``.
///
/// The methods take raw pointers and counts and check nothing: they are the
/// inner loop. Resolve a `Kernels` once (per index, per encoder) and keep it;
/// the call is then a direct call through a C function pointer, as hnswlib's
/// distance function is. The static conveniences take buffers and check their
/// lengths.
///
/// ```swift
/// let kernels = Kernels.active
/// let d = a.withUnsafeBufferPointer { a in
///     b.withUnsafeBufferPointer { b in kernels.dot(a.baseAddress!, b.baseAddress!, count: a.count) }
/// }
/// let same = Kernels.dot(a, b)   // checked convenience
/// ```
///
/// Results of reductions may differ between variants in the last bits (they
/// sum in a different order); each stays within a few ulps × √n of the exact
/// value.
public struct Kernels: Sendable {
    /// The level of this variant.
    public let level: KernelLevel

    @usableFromInline let dotF32: mms_f32_pair_fn
    @usableFromInline let l2sqF32: mms_f32_pair_fn
    @usableFromInline let cosineF32: mms_f32_pair_fn
    @usableFromInline let sumF32: mms_reduce_f32_fn
    @usableFromInline let sumsqF32: mms_reduce_f32_fn
    @usableFromInline let maxabsF32: mms_reduce_f32_fn
    @usableFromInline let dotF32Many: mms_f32_many_fn
    @usableFromInline let l2sqF32Many: mms_f32_many_fn
    @usableFromInline let cosineF32Many: mms_f32_many_fn
    @usableFromInline let dotF32F16: mms_f32_f16_pair_fn
    @usableFromInline let dotF32F16Many: mms_f32_f16_many_fn
    @usableFromInline let l2sqF32F16: mms_f32_f16_pair_fn
    @usableFromInline let dotI8: mms_i8_pair_fn
    @usableFromInline let dotI8Many: mms_i8_many_fn
    @usableFromInline let f32ToF16: mms_f32_to_f16_fn
    @usableFromInline let f16ToF32: mms_f16_to_f32_fn
    @usableFromInline let quantizeI8: mms_quantize_i8_fn
    @usableFromInline let dequantizeI8: mms_dequantize_i8_fn
    @usableFromInline let activationF32: mms_activation_f32_fn
    @usableFromInline let softmaxF32: mms_softmax_f32_fn
    @usableFromInline let attentionF32: mms_attention_f32_fn

    private init(table: UnsafePointer<mms_kernel_table>) {
        let t = table.pointee
        // The C tables are static constants with every entry filled in.
        level = KernelLevel(rawValue: Int(t.level.rawValue)) ?? .portable
        dotF32 = t.dot_f32
        l2sqF32 = t.l2sq_f32
        cosineF32 = t.cosine_f32
        sumF32 = t.sum_f32
        sumsqF32 = t.sumsq_f32
        maxabsF32 = t.maxabs_f32
        dotF32Many = t.dot_f32_many
        l2sqF32Many = t.l2sq_f32_many
        cosineF32Many = t.cosine_f32_many
        dotF32F16 = t.dot_f32_f16
        dotF32F16Many = t.dot_f32_f16_many
        l2sqF32F16 = t.l2sq_f32_f16
        dotI8 = t.dot_i8
        dotI8Many = t.dot_i8_many
        f32ToF16 = t.f32_to_f16
        f16ToF32 = t.f16_to_f32
        quantizeI8 = t.quantize_i8
        dequantizeI8 = t.dequantize_i8
        activationF32 = t.activation_f32
        softmaxF32 = t.softmax_f32
        attentionF32 = t.attention_f32
    }

    /// The variant for `level`, or nil when this CPU or build lacks it.
    public init?(level: KernelLevel) {
        guard let table = mms_kernels_table(mms_kernel_level(rawValue: UInt32(level.rawValue))) else {
            return nil
        }
        self.init(table: table)
    }

    /// The variant this process uses (chosen once; see the type's documentation).
    public static let active = Kernels(table: mms_kernels())

    /// The highest level this CPU supports, whatever `MMS_KERNELS` says.
    public static var bestSupportedLevel: KernelLevel {
        KernelLevel(rawValue: Int(mms_kernels_best_level().rawValue)) ?? .portable
    }

    /// Every variant this CPU supports, portable first.
    public static var supported: [Kernels] {
        KernelLevel.allCases.compactMap { Kernels(level: $0) }
    }
}

// MARK: - Raw kernels (unchecked, for inner loops)

extension Kernels {
    /// Σ a[i]·b[i] over `count` floats.
    @inlinable @inline(__always)
    public func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        dotF32(a, b, count)
    }

    /// Σ (a[i] − b[i])² over `count` floats.
    @inlinable @inline(__always)
    public func squaredL2(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        l2sqF32(a, b, count)
    }

    /// a·b / (‖a‖‖b‖), or 0 when either vector is zero.
    @inlinable @inline(__always)
    public func cosine(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        cosineF32(a, b, count)
    }

    /// Σ x[i].
    @inlinable @inline(__always)
    public func sum(_ x: UnsafePointer<Float>, count: Int) -> Float { sumF32(x, count) }

    /// Σ x[i]².
    @inlinable @inline(__always)
    public func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Float { sumsqF32(x, count) }

    /// max |x[i]|; NaN if any element is NaN; 0 when `count` is 0.
    @inlinable @inline(__always)
    public func maxMagnitude(_ x: UnsafePointer<Float>, count: Int) -> Float { maxabsF32(x, count) }

    /// `out[r] = query · rows[r]` for `rowCount` rows of `count` floats starting `stride` floats apart.
    @inlinable @inline(__always)
    public func dot(
        _ query: UnsafePointer<Float>, rows: UnsafePointer<Float>, stride: Int, rowCount: Int, count: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        dotF32Many(query, rows, stride, rowCount, count, out)
    }

    /// `out[r] = ‖query − rows[r]‖²`.
    @inlinable @inline(__always)
    public func squaredL2(
        _ query: UnsafePointer<Float>, rows: UnsafePointer<Float>, stride: Int, rowCount: Int, count: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        l2sqF32Many(query, rows, stride, rowCount, count, out)
    }

    /// `out[r] = cos(query, rows[r])`.
    @inlinable @inline(__always)
    public func cosine(
        _ query: UnsafePointer<Float>, rows: UnsafePointer<Float>, stride: Int, rowCount: Int, count: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        cosineF32Many(query, rows, stride, rowCount, count, out)
    }

    /// Σ a[i]·half(b[i]): a float query against half-precision storage.
    @inlinable @inline(__always)
    public func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Half>, count: Int) -> Float {
        b.withMemoryRebound(to: UInt16.self, capacity: count) { dotF32F16(a, $0, count) }
    }

    /// Σ (a[i] − half(b[i]))².
    @inlinable @inline(__always)
    public func squaredL2(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Half>, count: Int) -> Float {
        b.withMemoryRebound(to: UInt16.self, capacity: count) { l2sqF32F16(a, $0, count) }
    }

    /// `out[r] = query · half(rows[r])`.
    @inlinable @inline(__always)
    public func dot(
        _ query: UnsafePointer<Float>, rows: UnsafePointer<Half>, stride: Int, rowCount: Int, count: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        rows.withMemoryRebound(to: UInt16.self, capacity: stride * max(rowCount - 1, 0) + count) {
            dotF32F16Many(query, $0, stride, rowCount, count, out)
        }
    }

    /// Σ a[i]·b[i] over int8, exact in Int32 for `count` < 131,072.
    @inlinable @inline(__always)
    public func dot(_ a: UnsafePointer<Int8>, _ b: UnsafePointer<Int8>, count: Int) -> Int32 {
        dotI8(a, b, count)
    }

    /// `out[r] = query · rows[r]` over int8.
    @inlinable @inline(__always)
    public func dot(
        _ query: UnsafePointer<Int8>, rows: UnsafePointer<Int8>, stride: Int, rowCount: Int, count: Int,
        into out: UnsafeMutablePointer<Int32>
    ) {
        dotI8Many(query, rows, stride, rowCount, count, out)
    }

    /// Converts floats to halves, rounding to nearest even (NaN stays NaN, overflow becomes ±Inf).
    @inlinable @inline(__always)
    public func convert(_ source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Half>, count: Int) {
        destination.withMemoryRebound(to: UInt16.self, capacity: count) { f32ToF16(source, $0, count) }
    }

    /// Converts halves to floats, exactly.
    @inlinable @inline(__always)
    public func convert(_ source: UnsafePointer<Half>, to destination: UnsafeMutablePointer<Float>, count: Int) {
        source.withMemoryRebound(to: UInt16.self, capacity: count) { f16ToF32($0, destination, count) }
    }

    /// `destination[i] = clamp(rint(source[i] × inverseScale), −127, 127)`; NaN becomes 0.
    @inlinable @inline(__always)
    public func quantize(
        _ source: UnsafePointer<Float>, count: Int, inverseScale: Float, into destination: UnsafeMutablePointer<Int8>
    ) {
        quantizeI8(source, count, inverseScale, destination)
    }

    /// `destination[i] = source[i] × scale`.
    @inlinable @inline(__always)
    public func dequantize(
        _ source: UnsafePointer<Int8>, count: Int, scale: Float, into destination: UnsafeMutablePointer<Float>
    ) {
        dequantizeI8(source, count, scale, destination)
    }
}

// MARK: - Checked conveniences over buffers

extension Kernels {
    /// a · b with the active kernels. Precondition: equal lengths.
    @inlinable
    public static func dot(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>) -> Float {
        precondition(a.count == b.count, "dot of vectors of \(a.count) and \(b.count) components")
        guard let pa = a.baseAddress, let pb = b.baseAddress else { return 0 }
        return active.dot(pa, pb, count: a.count)
    }

    /// ‖a − b‖² with the active kernels. Precondition: equal lengths.
    @inlinable
    public static func squaredL2(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>) -> Float {
        precondition(a.count == b.count, "distance between vectors of \(a.count) and \(b.count) components")
        guard let pa = a.baseAddress, let pb = b.baseAddress else { return 0 }
        return active.squaredL2(pa, pb, count: a.count)
    }

    /// cos(a, b) with the active kernels (0 when either is zero). Precondition: equal lengths.
    @inlinable
    public static func cosine(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>) -> Float {
        precondition(a.count == b.count, "cosine of vectors of \(a.count) and \(b.count) components")
        guard let pa = a.baseAddress, let pb = b.baseAddress else { return 0 }
        return active.cosine(pa, pb, count: a.count)
    }

    /// a · b for arrays. Precondition: equal lengths.
    @inlinable
    public static func dot(_ a: [Float], _ b: [Float]) -> Float {
        a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in dot(a, b) } }
    }

    /// ‖a − b‖² for arrays. Precondition: equal lengths.
    @inlinable
    public static func squaredL2(_ a: [Float], _ b: [Float]) -> Float {
        a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in squaredL2(a, b) } }
    }

    /// cos(a, b) for arrays. Precondition: equal lengths.
    @inlinable
    public static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in cosine(a, b) } }
    }
}
