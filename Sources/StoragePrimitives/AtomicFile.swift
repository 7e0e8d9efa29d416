import SearchCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Replacing a file so that a reader, or a crash, sees the old file or the
/// whole new one, never a mix.
package enum AtomicFile {
    /// Writes `parts`, one after another, as the new content of `path`.
    ///
    /// Steps: create a temporary file beside `path` under a unique name
    /// (`<path>.<pid>-<random>.tmp`, created exclusively with `O_EXCL`, so
    /// two writers never share one), write, `fsync` it, rename it over
    /// `path`, `fsync` the directory. On any failure the temporary file is
    /// removed. A crash can leave a `*.tmp` file behind, which no reader
    /// opens; owners of a directory may remove them.
    package static func replace(_ path: String, with parts: [[UInt8]]) throws(SearchError) {
        var fd: Int32 = -1
        var temporary = ""
        var attempts = 0
        repeat {
            temporary = "\(path).\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp"
            fd = Int32(SystemCalls.retrying { Int(open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)) })
            attempts += 1
        } while fd < 0 && errno == EEXIST && attempts < 8
        guard fd >= 0 else { throw SystemCalls.error("cannot create", temporary) }
        var renamed = false
        defer { if !renamed { _ = unlink(temporary) } }
        do {
            defer { SystemCalls.close(fd) }
            for part in parts {
                try withRawBytes(part) { (raw) throws(SearchError) in try SystemCalls.writeAll(fd, raw, path: temporary) }
            }
            try SystemCalls.sync(fd, path: temporary)
        }
        guard rename(temporary, path) == 0 else { throw SystemCalls.error("cannot rename \(temporary) to", path) }
        renamed = true
        try SystemCalls.syncDirectory(containing: path)
    }
}
