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
/// `@unchecked Sendable` is sound: the mutexes are allocated and initialised
/// in `init`, destroyed in `deinit`, and only ever touched through
/// `pthread_mutex_lock`/`unlock`, which are thread-safe.
final class StripedLocks: @unchecked Sendable {
    private let mutexes: UnsafeMutablePointer<pthread_mutex_t>
    private let mask: Int

    /// `stripes` is rounded up to a power of two.
    init(stripes: Int) {
        var n = 1
        while n < stripes { n <<= 1 }
        mask = n - 1
        mutexes = .allocate(capacity: n)
        for i in 0..<n { pthread_mutex_init(mutexes + i, nil) }
    }

    deinit {
        for i in 0...mask { pthread_mutex_destroy(mutexes + i) }
        mutexes.deallocate()
    }

    @inline(__always)
    func lock(_ node: UInt32) { pthread_mutex_lock(mutexes + (Int(node) & mask)) }

    @inline(__always)
    func unlock(_ node: UInt32) { pthread_mutex_unlock(mutexes + (Int(node) & mask)) }

    /// Runs `body` holding the lock of `node`.
    @inline(__always)
    func withLock<R>(_ node: UInt32, _ body: () -> R) -> R {
        lock(node)
        defer { unlock(node) }
        return body()
    }
}
