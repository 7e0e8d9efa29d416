import SearchCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An existing file opened for durable appends: bytes written at an offset,
/// then flushed with `fdatasync` so they survive `kill -9` and power loss.
///
/// A `~Copyable` owner of its descriptor; `deinit` closes it.
package struct AppendFile: ~Copyable {
    /// The descriptor, open for writing.
    private let fd: Int32
    /// The path, for messages.
    package let path: String

    /// Opens the existing file at `path` for writing.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/notFound`` when it does not exist, `.io` otherwise.
    package init(path: String) throws(SearchError) {
        fd = try SystemCalls.open(path, O_WRONLY)
        self.path = path
    }

    /// Writes all of `bytes` at `offset` (not yet durable: see ``flush()``).
    package func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(SearchError) {
        try SystemCalls.writeAll(fd, bytes, at: offset, path: path)
    }

    /// Writes all of `bytes` at `offset` (not yet durable: see ``flush()``).
    package func write(_ bytes: [UInt8], at offset: Int) throws(SearchError) {
        try withRawBytes(bytes) { (raw) throws(SearchError) in try SystemCalls.writeAll(fd, raw, at: offset, path: path) }
    }

    /// Makes everything written durable: the data and the size needed to read it back.
    package func flush() throws(SearchError) {
        try SystemCalls.syncData(fd, path: path)
    }

    /// Cuts the file to `length` bytes, durably.
    package func truncate(to length: Int) throws(SearchError) {
        guard ftruncate(fd, off_t(length)) == 0 else { throw SystemCalls.error("cannot cut to \(length) bytes:", path) }
        try SystemCalls.sync(fd, path: path)
    }

    deinit {
        SystemCalls.close(fd)
    }
}
