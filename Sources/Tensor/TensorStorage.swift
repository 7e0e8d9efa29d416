/// A 64-byte-aligned heap block of scalars shared by tensors and their views.
///
/// `@unchecked Sendable` is sound because the memory is written only through
/// ``Tensor``'s mutating API, which first makes the storage uniquely referenced
/// (copy on write): once a storage is shared — between tensors, views or
/// threads — no one writes it again.
@usableFromInline
final class TensorStorage<Scalar: TensorScalar>: @unchecked Sendable {
    @usableFromInline let base: UnsafeMutablePointer<Scalar>
    @usableFromInline let capacity: Int

    /// The alignment of every tensor's first element: a cache line, and the
    /// width of an AVX-512 register.
    @usableFromInline static var alignment: Int { 64 }

    @usableFromInline
    init(capacity: Int) {
        self.capacity = capacity
        let bytes = max(capacity, 1) * MemoryLayout<Scalar>.stride
        base = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: Self.alignment)
            .bindMemory(to: Scalar.self, capacity: max(capacity, 1))
    }

    @usableFromInline
    convenience init(repeating value: Scalar, count: Int) {
        self.init(capacity: count)
        base.initialize(repeating: value, count: count)
    }

    deinit {
        // Scalars are BitwiseCopyable: nothing to deinitialise.
        UnsafeMutableRawPointer(base).deallocate()
    }
}
