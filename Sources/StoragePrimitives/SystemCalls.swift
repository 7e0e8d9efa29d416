import SearchCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Every file-system call the package's persistent formats make, in one
/// place: retried on `EINTR`, and failures turned into
/// ``SearchCore/SearchError/Code/io`` naming the path and errno.
package enum SystemCalls {
    /// An `.io` error for `what` on `path`, with errno's text and number.
    package static func error(_ what: String, _ path: String, _ code: Int32 = errno) -> SearchError {
        SearchError(.io, "\(what) \(path): \(String(cString: strerror(code))) (errno \(code))")
    }

    /// Runs `body` until it returns a non-negative result or fails with
    /// something other than `EINTR`.
    package static func retrying(_ body: () -> Int) -> Int {
        while true {
            let r = body()
            if r >= 0 || errno != EINTR { return r }
        }
    }

    /// Opens `path`; ``SearchCore/SearchError/Code/notFound`` when it does not
    /// exist (and `flags` do not create it), `.io` otherwise.
    package static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws(SearchError) -> Int32 {
        let fd = Int32(retrying { Int(systemOpen(path, flags | O_CLOEXEC, mode)) })
        guard fd >= 0 else {
            let code = errno
            throw code == ENOENT ? SearchError(.notFound, "\(path) does not exist") : error("cannot open", path, code)
        }
        return fd
    }

    /// Closes a descriptor (not retried: after `EINTR` the descriptor is gone on Linux).
    package static func close(_ fd: Int32) {
        _ = systemClose(fd)
    }

    /// Writes all of `bytes` at the descriptor's position, or at `offset` when given.
    package static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int? = nil, path: String) throws(SearchError) {
        var written = 0
        while written < bytes.count {
            let n = retrying {
                if let offset {
                    return pwrite(fd, bytes.baseAddress! + written, bytes.count - written, off_t(offset + written))
                }
                return write(fd, bytes.baseAddress! + written, bytes.count - written)
            }
            guard n > 0 else { throw error("cannot write", path) }
            written += n
        }
    }

    /// Flushes a file's data and metadata (`fsync`).
    package static func sync(_ fd: Int32, path: String) throws(SearchError) {
        guard retrying({ Int(fsync(fd)) }) == 0 else { throw error("cannot flush", path) }
    }

    /// Flushes a file's data and the metadata needed to read it back
    /// (`fdatasync` on Linux, `fsync` elsewhere).
    package static func syncData(_ fd: Int32, path: String) throws(SearchError) {
        #if os(Linux)
        guard retrying({ Int(fdatasync(fd)) }) == 0 else { throw error("cannot flush", path) }
        #else
        try sync(fd, path: path)
        #endif
    }

    /// Flushes the directory holding `path`, so a create, rename or unlink in it survives a crash.
    package static func syncDirectory(containing path: String) throws(SearchError) {
        let directory: String
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            directory = "."
        }
        let fd = try open(directory, O_RDONLY)
        defer { close(fd) }
        try sync(fd, path: directory)
    }

    /// Whether something exists at `path`.
    package static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Reads a whole file, refusing one larger than `limit` bytes with
    /// ``SearchCore/SearchError/Code/resourceLimit``.
    package static func readFile(_ path: String, limit: Int) throws(SearchError) -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw error("cannot stat", path) }
        let size = Int(info.st_size)
        guard size <= limit else {
            throw SearchError(.resourceLimit, "\(path) has \(size) bytes, over the \(limit)-byte limit for this kind of file")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var got = 0
        let failed: Bool = bytes.withUnsafeMutableBytes { raw in
            while got < size {
                let n = retrying { read(fd, raw.baseAddress! + got, size - got) }
                if n < 0 { return true }
                if n == 0 { break }  // shrank while being read
                got += n
            }
            return false
        }
        if failed { throw error("cannot read", path) }
        return got == size ? bytes : Array(bytes[0..<got])
    }
}

/// The C `open`, from a scope where ``SystemCalls/open(_:_:mode:)`` does not shadow it.
@inline(__always)
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
    open(path, flags, mode)
}

/// The C `close`, from a scope where ``SystemCalls/close(_:)`` does not shadow it.
@inline(__always)
private func systemClose(_ fd: Int32) -> Int32 {
    close(fd)
}
