import SearchCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole regular file mapped read-only; unmapped when its owner goes away.
///
/// A `~Copyable` owner, as swift-system's resources are: exactly one value
/// owns the mapping and its `deinit` calls `munmap`.
///
/// `@unchecked Sendable` is sound: the pages are mapped `PROT_READ` and
/// `MAP_PRIVATE`, so nothing writes them through this type; the pointer and
/// length never change after `init`; and being `~Copyable` there is exactly
/// one owner, whose `deinit` (after every borrow has ended) is the only place
/// the mapping is undone.
package struct MappedFile: ~Copyable, @unchecked Sendable {
    /// The first mapped byte; nil for an empty file.
    package let base: UnsafeRawPointer?
    /// The file's size in bytes.
    package let count: Int
    /// The path the file was opened from, for messages.
    package let path: String

    /// Maps the file at `path`. An empty file is mapped as zero bytes.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/notFound`` when there is no
    ///   such file, `.io` when it is not a regular file or the system refuses.
    package init(path: String) throws(SearchError) {
        let fd = try SystemCalls.open(path, O_RDONLY)
        defer { SystemCalls.close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SystemCalls.error("cannot stat", path) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw SearchError(.io, "\(path) is not a regular file") }
        let size = Int(info.st_size)
        var mapped: UnsafeRawPointer?
        if size > 0 {
            guard let m = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), m != MAP_FAILED else {
                throw SystemCalls.error("cannot map \(size) bytes of", path)
            }
            mapped = UnsafeRawPointer(m)
        }
        self.path = path
        count = size
        base = mapped
    }

    /// The mapped bytes, valid while this owner lives.
    package var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Calls `body` with the file's bytes; the pointer is valid only inside `body`.
    package func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(bytes)
    }

    /// Asks the kernel to read a range ahead (for the hot part of an index).
    package func willNeed(_ range: Range<Int>) {
        // madvise takes a page-aligned start: widen the range down to its first page.
        advise(from: range.lowerBound / Self.pageSize * Self.pageSize, to: range.upperBound, Int32(MADV_WILLNEED))
    }

    /// Tells the kernel `range` is read at random, so a page fault reads that
    /// page rather than the device's whole read-ahead window around it.
    package func randomAccess(_ range: Range<Int>) {
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
