/// A float buffer deliberately placed `shift` floats past a 64-byte boundary,
/// so kernels are tested on unaligned loads too.
public final class MisalignedBuffer<Element: BitwiseCopyable> {
    private let raw: UnsafeMutableRawPointer
    /// The elements, starting `shift` elements past an aligned address.
    public let buffer: UnsafeMutableBufferPointer<Element>

    public init(_ values: [Element], shift: Int) {
        let stride = MemoryLayout<Element>.stride
        raw = UnsafeMutableRawPointer.allocate(byteCount: (values.count + shift + 1) * stride, alignment: 64)
        let start = (raw + shift * stride).bindMemory(to: Element.self, capacity: values.count)
        buffer = UnsafeMutableBufferPointer(start: start, count: values.count)
        _ = buffer.initialize(from: values)
    }

    deinit { raw.deallocate() }

    /// The elements as a read-only pointer (a valid pointer even when empty).
    public var pointer: UnsafePointer<Element> { UnsafePointer(buffer.baseAddress!) }
}
