import SearchCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory; unmapped when the owner goes away.
///
/// A `~Copyable` owner, as swift-system's resources are: exactly one value
/// owns the mapping and its `deinit` calls `munmap`, so a view can never
/// outlive it when read through ``withUnsafeBytes(_:)``.
///
/// `@unchecked Sendable` is sound because the mapping is `PROT_READ` and
/// `MAP_PRIVATE`: no one can write it through this type, and the owner is
/// not copyable, so the unmap happens once, after every borrow has ended.
struct MappedFile: ~Copyable, @unchecked Sendable {
    private let base: UnsafeRawPointer?
    /// The file's size in bytes.
    let count: Int
    /// The path the file was opened from, for messages.
    let path: String

    /// Maps the file at `path`. An empty file is mapped as zero bytes.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/notFound`` when there is no
    ///   such file, ``SearchCore/SearchError/Code/io`` when the system refuses.
    init(path: String) throws(SearchError) {
        let (base, count) = try Self.map(path)
        self.base = base
        self.count = count
        self.path = path
    }

    /// Opens, sizes and maps the file; the descriptor is closed before returning.
    private static func map(_ path: String) throws(SearchError) -> (UnsafeRawPointer?, Int) {
        let fd = retryingOpen(path)
        guard fd >= 0 else {
            let code = errno
            throw SearchError(
                code == ENOENT ? .notFound : .io, "cannot open \(path): \(String(cString: strerror(code)))")
        }
        defer { _ = close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw SearchError(.io, "cannot stat \(path): \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw SearchError(.io, "\(path) is not a regular file")
        }
        let size = Int(info.st_size)
        if size == 0 { return (nil, 0) }
        let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw SearchError(.io, "cannot map \(path) (\(size) bytes): \(String(cString: strerror(errno)))")
        }
        return (UnsafeRawPointer(mapped), size)
    }

    private static func retryingOpen(_ path: String) -> Int32 {
        while true {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd >= 0 || errno != EINTR { return fd }
        }
    }

    /// Calls `body` with the file's bytes; the pointer is valid only inside `body`.
    func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    deinit {
        if let base { _ = munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }
}
