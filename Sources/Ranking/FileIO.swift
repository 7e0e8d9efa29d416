import SearchCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The few syscalls durable writes need, each retried on EINTR and turned
/// into ``SearchError/Code/io`` naming the path and errno.
enum FileIO {
    static func failure(_ what: String, _ path: String) -> SearchError {
        let code = errno
        let reason = String(cString: strerror(code))
        return SearchError(.io, "\(what) `\(path)` failed: \(reason) (errno \(code))")
    }

    /// Writes `bytes` to `path` atomically: a fresh temporary file beside it,
    /// fsync, rename over `path`, fsync of the directory. A reader sees the old
    /// file or the new one, never a torn mix; after return the new one survives
    /// a crash.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(SearchError) {
        let directory: String = {
            guard let slash = path.lastIndex(of: "/") else { return "." }
            let d = String(path[..<slash])
            return d.isEmpty ? "/" : d
        }()
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var fd: Int32
        repeat { fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) } while fd < 0 && errno == EINTR
        guard fd >= 0 else { throw failure("creating", temporary) }
        var ok = false
        defer {
            if !ok { unlink(temporary) }
        }
        do {
            defer { close(fd) }
            let error: SearchError? = bytes.withUnsafeBytes { raw in
                var written = 0
                while written < raw.count {
                    let n = write(fd, raw.baseAddress! + written, raw.count - written)
                    if n < 0 {
                        if errno == EINTR { continue }
                        return failure("writing", temporary)
                    }
                    written += n
                }
                return nil
            }
            if let error { throw error }
            var r: Int32
            repeat { r = fsync(fd) } while r < 0 && errno == EINTR
            guard r == 0 else { throw failure("fsync of", temporary) }
        }
        guard rename(temporary, path) == 0 else { throw failure("renaming a snapshot onto", path) }
        ok = true
        var dfd: Int32
        repeat { dfd = open(directory, O_RDONLY | O_CLOEXEC) } while dfd < 0 && errno == EINTR
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }

    /// Reads a whole file.
    static func readAll(_ path: String, limit: Int = 1 << 34) throws(SearchError) -> [UInt8] {
        var fd: Int32
        repeat { fd = open(path, O_RDONLY | O_CLOEXEC) } while fd < 0 && errno == EINTR
        guard fd >= 0 else {
            if errno == ENOENT { throw SearchError(.notFound, "no file at `\(path)`") }
            throw failure("opening", path)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure("stat of", path) }
        let size = Int(info.st_size)
        guard size <= limit else {
            throw SearchError(.resourceLimit, "`\(path)` is \(size) bytes, over the \(limit)-byte limit")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var got = 0
        let error: SearchError? = bytes.withUnsafeMutableBytes { raw in
            while got < size {
                let n = read(fd, raw.baseAddress! + got, size - got)
                if n < 0 {
                    if errno == EINTR { continue }
                    return failure("reading", path)
                }
                if n == 0 { break }
                got += n
            }
            return nil
        }
        if let error { throw error }
        return Array(bytes[0..<got])
    }
}
