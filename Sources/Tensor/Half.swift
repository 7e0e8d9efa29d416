import CSearchKernels

/// An IEEE 754 binary16 value, stored as its bit pattern.
///
/// Swift's `Float16` is not available on every platform this package supports
/// (macOS on x86-64 lacks it), and where it is, each scalar conversion is a
/// library call without target flags. `Half` is storage: convert in bulk with
/// ``Kernels/convert(_:to:count:)-(UnsafePointer<Float>,_,_)`` (F16C where
/// present), or one value at a time with ``init(_:)`` and ``float``.
/// Conversion rounds to nearest even; NaN stays NaN; values past 65504 become
/// ±Inf; subnormals are exact.
@frozen
public struct Half: Hashable, Sendable, CustomStringConvertible {
    /// The binary16 bit pattern.
    public var bitPattern: UInt16

    @inlinable
    /// The half with this binary16 bit pattern.
    public init(bitPattern: UInt16) { self.bitPattern = bitPattern }

    /// The half nearest to `value` (ties to even).
    @inlinable
    public init(_ value: Float) { bitPattern = mms_f32_to_f16_scalar(value) }

    /// The value as a float (exact).
    @inlinable
    public var float: Float { mms_f16_to_f32_scalar(bitPattern) }

    /// Positive zero.
    public static let zero = Half(bitPattern: 0)

    public var description: String { float.description }
}
