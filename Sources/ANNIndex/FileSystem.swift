import SearchCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every system call the persistent formats make, in one place: retried on
/// `EINTR`, and turned into ``SearchError/Code/io`` naming the path and errno.
enum FileSystem {
    static func error(_ what: String, _ path: String, _ code: Int32 = errno) -> SearchError {
        SearchError(.io, "\(what) \(path): \(String(cString: strerror(code))) (errno \(code))")
    }

    static func retrying(_ body: () -> Int) -> Int {
        while true {
            let r = body()
            if r >= 0 || errno != EINTR { return r }
        }
    }

    /// Writes `parts`, one after another, to a new file at `path` (replacing
    /// any), durably: data and metadata reach the disk before this returns.
    static func writeDurably(_ parts: [[UInt8]], to path: String) throws(SearchError) {
        let fd = Int32(retrying { Int(open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)) })
        guard fd >= 0 else { throw error("cannot create", path) }
        defer { _ = close(fd) }
        for part in parts {
            let failed = part.withUnsafeBytes { bytes in
                var written = 0
                while written < bytes.count {
                    let n = retrying { write(fd, bytes.baseAddress! + written, bytes.count - written) }
                    guard n > 0 else { return true }
                    written += n
                }
                return false
            }
            if failed { throw error("cannot write", path) }
        }
        guard retrying({ Int(fsync(fd)) }) == 0 else { throw error("cannot flush", path) }
    }

    /// Renames atomically, then flushes the directory so the rename survives a crash.
    static func renameDurably(_ from: String, to: String) throws(SearchError) {
        guard rename(from, to) == 0 else { throw error("cannot rename \(from) to", to) }
        try syncDirectory(containing: to)
    }

    static func syncDirectory(containing path: String) throws(SearchError) {
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let fd = Int32(retrying { Int(open(directory.isEmpty ? "/" : directory, O_RDONLY | O_CLOEXEC)) })
        guard fd >= 0 else { throw error("cannot open directory", directory) }
        defer { _ = close(fd) }
        guard retrying({ Int(fsync(fd)) }) == 0 else { throw error("cannot flush directory", directory) }
    }

    /// Writes a file durably under a temporary name, renames it into place and
    /// flushes the directory: a reader sees the old file or the whole new one.
    static func replaceAtomically(_ path: String, with parts: [[UInt8]]) throws(SearchError) {
        let temporary = path + ".tmp"
        try writeDurably(parts, to: temporary)
        try renameDurably(temporary, to: path)
    }
}

/// A read-only memory mapping of a whole file, unmapped when dropped.
///
/// `@unchecked Sendable` is sound: the pages are mapped `PROT_READ` and the
/// owner never writes them, the pointer and length never change after
/// `init`, and being `~Copyable` there is exactly one owner, whose `deinit`
/// (after every borrower is gone) is the only place the mapping is undone.
struct FileMapping: ~Copyable, @unchecked Sendable {
    let base: UnsafeRawPointer?
    let count: Int
    let path: String

    /// Maps `path` read-only.
    init(path: String) throws(SearchError) {
        let fd = Int32(FileSystem.retrying { Int(open(path, O_RDONLY | O_CLOEXEC)) })
        guard fd >= 0 else {
            throw errno == ENOENT
                ? SearchError(.notFound, "\(path) does not exist") : FileSystem.error("cannot open", path)
        }
        defer { _ = close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileSystem.error("cannot stat", path) }
        let size = Int(info.st_size)
        var mapped: UnsafeRawPointer?
        if size > 0 {
            guard let m = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), m != MAP_FAILED else {
                throw FileSystem.error("cannot map", path)
            }
            mapped = UnsafeRawPointer(m)
        }
        self.path = path
        self.count = size
        self.base = mapped
    }

    /// The mapped bytes.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Asks the kernel to read a range ahead (for the hot part of an index).
    func willNeed(_ range: Range<Int>) {
        // madvise takes a page-aligned start: widen the range down to its first page.
        advise(from: range.lowerBound / Self.pageSize * Self.pageSize, to: range.upperBound, Int32(MADV_WILLNEED))
    }

    /// Tells the kernel `range` is read at random, so a page fault reads that
    /// page rather than the device's whole read-ahead window around it.
    func randomAccess(_ range: Range<Int>) {
        // Only pages wholly inside the range, so the advice never reaches a neighbouring section.
        let page = Self.pageSize
        advise(from: (range.lowerBound + page - 1) / page * page, to: range.upperBound / page * page, Int32(MADV_RANDOM))
    }

    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    private func advise(from start: Int, to end: Int, _ advice: Int32) {
        guard let base, end > start else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, advice)
    }

    deinit {
        if let base { _ = munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }
}

/// Calls a typed-throwing `body` with an array's bytes (`Array.withUnsafeBytes`
/// only rethrows untyped errors).
func withRawBytes<R>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(SearchError) -> R) throws(SearchError) -> R {
    let result: Result<R, SearchError> = bytes.withUnsafeBytes { raw in
        do throws(SearchError) { return .success(try body(raw)) } catch { return .failure(error) }
    }
    return try result.get()
}
