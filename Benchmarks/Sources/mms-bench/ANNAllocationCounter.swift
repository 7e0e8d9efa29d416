#if os(Linux)
import Synchronization

// Counts heap allocations made by this process while counting is switched on,
// by defining malloc, calloc, realloc, free and the aligned allocators in the
// executable: the dynamic linker binds every library's calls (the Swift
// runtime's included) to these, and they forward to glibc's own entry points.

@_silgen_name("__libc_malloc") private func libcMalloc(_ size: Int) -> UnsafeMutableRawPointer?
@_silgen_name("__libc_calloc") private func libcCalloc(_ count: Int, _ size: Int) -> UnsafeMutableRawPointer?
@_silgen_name("__libc_realloc") private func libcRealloc(_ pointer: UnsafeMutableRawPointer?, _ size: Int)
    -> UnsafeMutableRawPointer?
@_silgen_name("__libc_memalign") private func libcMemalign(_ alignment: Int, _ size: Int) -> UnsafeMutableRawPointer?
@_silgen_name("__libc_free") private func libcFree(_ pointer: UnsafeMutableRawPointer?)

/// The process-wide allocation counter behind `mms-bench ann`'s `allocs_per_query`.
enum AllocationCounter {
    static let counting = Atomic<Bool>(false)
    static let count = Atomic<Int>(0)

    @inline(__always)
    static func note() {
        if counting.load(ordering: .relaxed) { count.add(1, ordering: .relaxed) }
    }

    /// The allocations `body` makes (on any thread of the process).
    static func measure(_ body: () -> Void) -> Int {
        count.store(0, ordering: .relaxed)
        counting.store(true, ordering: .sequentiallyConsistent)
        body()
        counting.store(false, ordering: .sequentiallyConsistent)
        return count.load(ordering: .relaxed)
    }
}

@_cdecl("malloc")
public func countingMalloc(_ size: Int) -> UnsafeMutableRawPointer? {
    AllocationCounter.note()
    return libcMalloc(size)
}

@_cdecl("calloc")
public func countingCalloc(_ count: Int, _ size: Int) -> UnsafeMutableRawPointer? {
    AllocationCounter.note()
    return libcCalloc(count, size)
}

@_cdecl("realloc")
public func countingRealloc(_ pointer: UnsafeMutableRawPointer?, _ size: Int) -> UnsafeMutableRawPointer? {
    AllocationCounter.note()
    return libcRealloc(pointer, size)
}

@_cdecl("aligned_alloc")
public func countingAlignedAlloc(_ alignment: Int, _ size: Int) -> UnsafeMutableRawPointer? {
    AllocationCounter.note()
    return libcMemalign(alignment, size)
}

@_cdecl("memalign")
public func countingMemalign(_ alignment: Int, _ size: Int) -> UnsafeMutableRawPointer? {
    AllocationCounter.note()
    return libcMemalign(alignment, size)
}

@_cdecl("posix_memalign")
public func countingPosixMemalign(
    _ result: UnsafeMutablePointer<UnsafeMutableRawPointer?>, _ alignment: Int, _ size: Int
) -> Int32 {
    AllocationCounter.note()
    guard let pointer = libcMemalign(alignment, size) else { return 12 }  // ENOMEM
    result.pointee = pointer
    return 0
}

@_cdecl("free")
public func countingFree(_ pointer: UnsafeMutableRawPointer?) {
    libcFree(pointer)
}
#else
/// Allocation counting needs glibc's entry points; elsewhere it reports -1.
enum AllocationCounter {
    static func measure(_ body: () -> Void) -> Int {
        body()
        return -1
    }
}
#endif
