import Synchronization

/// 64-byte-aligned float storage for one forward pass's activations, grown on demand.
///
/// `@unchecked Sendable` is sound because a buffer is only ever used by the
/// one call that took it from a ``ScratchPool``; the pool hands each buffer
/// to one caller at a time, under its lock.
final class ScratchBuffer: @unchecked Sendable {
    private var base: UnsafeMutablePointer<Float>
    private(set) var capacity: Int

    init() {
        base = Self.allocate(16)
        capacity = 16
    }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
    }

    /// At least `count` floats, uninitialised (previous contents are not kept when growing).
    func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            base.deallocate()
            base = Self.allocate(count)
            capacity = count
        }
        return base
    }

    deinit { base.deallocate() }
}

/// Scratch buffers reused across calls, so a forward pass allocates its
/// activation storage only when a batch is larger than any before it.
///
/// Concurrent callers each get a buffer of their own; at most
/// ``keptBuffers`` idle buffers are kept (each as large as the largest batch
/// it has served).
final class ScratchPool: Sendable {
    private let idle = Mutex<[ScratchBuffer]>([])
    /// Idle buffers kept between calls: one per concurrent caller, up to this many.
    static let keptBuffers = 4

    /// Calls `body` with `count` floats of scratch, exclusively.
    func withBuffer<R, E: Error>(count: Int, _ body: (UnsafeMutablePointer<Float>) throws(E) -> R) throws(E) -> R {
        let buffer = idle.withLock { $0.popLast() } ?? ScratchBuffer()
        defer {
            idle.withLock { buffers in
                if buffers.count < Self.keptBuffers { buffers.append(buffer) }
            }
        }
        return try body(buffer.reserve(count))
    }
}

/// Fixed-size slots of one scratch buffer, one per item of a batch, shared
/// by the threads that fill them.
///
/// `@unchecked Sendable` is sound because each slot is written by the one
/// thread that took its index (indices are handed out once, from an atomic
/// counter or a loop), slots do not overlap (`size` floats apart), and the
/// buffer, held by the caller's ``ScratchPool/withBuffer(count:_:)`` scope,
/// outlives the threads, which finish before that scope reads the slots.
struct ArenaSlots: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
    /// Floats per slot.
    let size: Int

    /// Slot `index`: `size` floats from `base + index × size`.
    subscript(index: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: base + index * size, count: size)
    }
}
