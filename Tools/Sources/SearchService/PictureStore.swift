import Foundation
import ModelStore
import SearchCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Uploaded pictures, kept in the collection's `pictures/` folder under the
/// SHA-256 of their bytes, and the rule for which files the service may
/// serve: only those whose real path (symlinks resolved) lies inside that
/// folder or one of the configured picture roots.
struct PictureStore: Sendable {
    let directory: String
    let roots: [String]

    init(collectionDirectory: String, pictureRoots: [String]) {
        directory = (collectionDirectory as NSString).appendingPathComponent("pictures")
        roots = ([directory] + pictureRoots).map { Self.realPath($0) ?? $0 }
    }

    /// The picture's kind from its first bytes; nil when it is neither JPEG nor PNG.
    static func kind(_ bytes: [UInt8]) -> (ext: String, mime: String)? {
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return ("jpg", "image/jpeg") }
        if bytes.count >= 8, bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return ("png", "image/png") }
        return nil
    }

    /// Stores `bytes` durably (written, flushed, renamed into place, the
    /// folder flushed) and returns the file's path; the same bytes map to
    /// the same file.
    func save(_ bytes: [UInt8]) throws(SearchError) -> String {
        guard let kind = Self.kind(bytes) else {
            throw SearchError(.unsupportedFormat, "an item picture must be a JPEG or PNG file")
        }
        var hasher = SHA256()
        hasher.update(bytes)
        let path = (directory as NSString).appendingPathComponent(hasher.finalize().hex + "." + kind.ext)
        if FileManager.default.fileExists(atPath: path) { return path }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw SearchError(.io, "cannot create \(directory): \(error)")
        }
        let temporary = path + ".tmp-\(UInt64.random(in: 0...UInt64.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw SearchError(.io, "cannot create \(temporary): errno \(errno)") }
        var written = 0
        let ok: Bool = bytes.withUnsafeBytes { raw in
            while written < raw.count {
                let n = write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                written += n
            }
            return fsync(fd) == 0
        }
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw SearchError(.io, "cannot write the picture \(path): errno \(errno)")
        }
        let dir = open(directory, O_RDONLY)
        if dir >= 0 {
            _ = fsync(dir)
            close(dir)
        }
        return path
    }

    /// The file at `path` when it may be served (inside a root), else nil.
    func servable(_ path: String) -> String? {
        guard let real = Self.realPath(path) else { return nil }
        for root in roots where real.hasPrefix(root.hasSuffix("/") ? root : root + "/") { return real }
        return nil
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
