import CSearchKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A readers–writer lock: many concurrent readers or one writer.
///
/// Indices take it shared to search and exclusive to change their storage,
/// so searches run in parallel with each other and never see a half-made
/// change. On glibc the lock prefers writers, so a steady stream of searches
/// cannot starve an `add`.
///
/// `@unchecked Sendable` is sound here: the only stored property is a pointer
/// to a `pthread_rwlock_t`, allocated once in `init` and destroyed in
/// `deinit`; every access to it goes through the pthread calls, which are
/// thread-safe by specification.
final class ReadWriteLock: @unchecked Sendable {
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    init() {
        lock = .allocate(capacity: 1)
        #if canImport(Glibc)
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        let status = pthread_rwlock_init(lock, &attributes)
        pthread_rwlockattr_destroy(&attributes)
        #else
        let status = pthread_rwlock_init(lock, nil)
        #endif
        precondition(status == 0, "pthread_rwlock_init failed with \(status)")
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    /// Runs `body` holding the lock shared.
    @inline(__always)
    func withReadLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    /// Runs `body` holding the lock exclusively.
    @inline(__always)
    func withWriteLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}

/// A fixed set of mutexes addressed by node, for parallel graph construction
/// (hnswlib's per-element link-list locks, striped so memory stays bounded).
///
/// Each mutex has a 64-byte cache line to itself, so two threads locking
/// neighbouring stripes do not share a line, and the 4,096 stripes (256 KiB)
/// stay in L2; with two to a few dozen build threads, two threads rarely want
/// the same stripe at once.
///
/// `@unchecked Sendable` is sound: the mutexes are allocated and initialised
/// in `init`, destroyed in `deinit`, and only ever touched through
/// `pthread_mutex_lock`/`unlock`, which are thread-safe.
final class StripedLocks: @unchecked Sendable {
    private static let lineBytes = 64
    private let memory: UnsafeMutableRawPointer
    private let mask: Int

    /// `stripes` is rounded up to a power of two.
    init(stripes: Int) {
        precondition(MemoryLayout<pthread_mutex_t>.size <= Self.lineBytes, "a pthread mutex outgrows a cache line")
        var n = 1
        while n < stripes { n <<= 1 }
        mask = n - 1
        memory = .allocate(byteCount: n * Self.lineBytes, alignment: Self.lineBytes)
        for i in 0..<n {
            let mutex = (memory + i * Self.lineBytes).bindMemory(to: pthread_mutex_t.self, capacity: 1)
            pthread_mutex_init(mutex, nil)
        }
    }

    deinit {
        for i in 0...mask { pthread_mutex_destroy(mutex(i)) }
        memory.deallocate()
    }

    @inline(__always)
    private func mutex(_ stripe: Int) -> UnsafeMutablePointer<pthread_mutex_t> {
        (memory + stripe * Self.lineBytes).assumingMemoryBound(to: pthread_mutex_t.self)
    }

    @inline(__always)
    func lock(_ node: UInt32) { pthread_mutex_lock(mutex(Int(node) & mask)) }

    @inline(__always)
    func unlock(_ node: UInt32) { pthread_mutex_unlock(mutex(Int(node) & mask)) }

    /// Asks for `node`'s mutex to be brought into cache before it is locked.
    @inline(__always)
    func prefetch(_ node: UInt32) { mms_prefetch(mutex(Int(node) & mask), 1) }

    /// Runs `body` holding the lock of `node`.
    @inline(__always)
    func withLock<R>(_ node: UInt32, _ body: () -> R) -> R {
        lock(node)
        defer { unlock(node) }
        return body()
    }
}

/// A value behind a `pthread_mutex_t`.
///
/// Used instead of `Synchronization.Mutex` where threads hand data to each
/// other (the scratch pool, the entry point during parallel builds): the
/// pthread calls are the ones ThreadSanitizer intercepts, so it sees the
/// ordering they create, and `swift test --sanitize=thread` stays free of
/// false reports.
///
/// `@unchecked Sendable` is sound: `value` is read and written only inside
/// `withLock`, between `pthread_mutex_lock` and `pthread_mutex_unlock` on the
/// mutex allocated in `init` and destroyed in `deinit`.
final class LockedValue<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the value, holding the mutex.
    @inline(__always)
    func withLock<R>(_ body: (inout Value) -> R) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body(&value)
    }
}
