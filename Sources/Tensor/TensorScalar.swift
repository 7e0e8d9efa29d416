/// The element types a ``Tensor`` stores: `Float`, ``Half`` and `Int8`.
public protocol TensorScalar: Sendable, Hashable, BitwiseCopyable {
    /// The value new tensors are filled with by default.
    static var zero: Self { get }
}

extension Float: TensorScalar {}
extension Int8: TensorScalar {}
extension Int32: TensorScalar {}
extension Half: TensorScalar {}
