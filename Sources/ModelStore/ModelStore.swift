import Foundation
import SearchCore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One file of a model repository, with the SHA-256 it must have.
public struct ModelFile: Sendable, Hashable {
    /// The path inside the repository, with `/` separators (`config.json`, `onnx/model.onnx`).
    public var path: String
    /// The lower-case hex SHA-256 of the file, or nil to accept what the server sends.
    public var sha256: String?

    /// A file at `path`, verified against `sha256` (hex, any case) when given.
    public init(_ path: String, sha256: String? = nil) {
        self.path = path
        self.sha256 = sha256?.lowercased()
    }
}

/// Downloads model repositories laid out as Hugging Face serves them
/// (`{endpoint}/{repository}/resolve/{revision}/{path}`) into a local cache,
/// and works from that cache without a network.
///
/// - Downloads stream to a `.part` file beside the destination and resume
///   from it (HTTP `Range`) after an interruption, within one call (a few
///   retries) or in a later one.
/// - A file with an expected SHA-256 is verified before it is moved into
///   place; a mismatch deletes the download and throws. A verified file gets
///   a `.sha256` note so later opens need not hash it again.
/// - Offline (``isOffline``, or `MMS_OFFLINE=1` / `HF_HUB_OFFLINE=1` in the
///   environment), only the cache is used, and a missing file is an error
///   that says so.
///
/// ```swift
/// let store = ModelStore()
/// let folder = try await store.fetch(
///     "sentence-transformers/all-MiniLM-L6-v2",
///     files: [ModelFile("config.json"), ModelFile("model.safetensors", sha256: "53aa51…"), ModelFile("vocab.txt")])
/// let encoder = try BERTTextEncoder(contentsOf: folder)
/// ```
public struct ModelStore: Sendable {
    /// Where repositories are kept: `{cacheDirectory}/{owner}--{name}/{revision}/{path}`.
    public var cacheDirectory: URL
    /// The server: `$HF_ENDPOINT` (a mirror) when set, else `https://huggingface.co`.
    public var endpoint: URL
    /// Use only the cache.
    public var isOffline: Bool
    /// A bearer token for gated repositories (default: `HF_TOKEN` from the environment).
    public var token: String?
    /// How many times one call retries an interrupted download before giving up.
    public var retries: Int

    /// `$HF_ENDPOINT` when set (Hugging Face's variable for a mirror), else `https://huggingface.co`.
    public static var defaultEndpoint: URL {
        if let value = ProcessInfo.processInfo.environment["HF_ENDPOINT"], let url = URL(string: value), url.scheme != nil {
            return url
        }
        return URL(string: "https://huggingface.co")!
    }

    /// `$MMS_MODEL_CACHE`, else `~/.cache/swift-multimodal-search/models`.
    public static var defaultCacheDirectory: URL {
        if let path = ProcessInfo.processInfo.environment["MMS_MODEL_CACHE"], !path.isEmpty {
            return URL(fileURLWithPath: path, isDirectory: true)
        }
        return FileManager.default.homeDirectoryForCurrentUser
            .appendingPathComponent(".cache/swift-multimodal-search/models", isDirectory: true)
    }

    public init(
        cacheDirectory: URL = ModelStore.defaultCacheDirectory,
        endpoint: URL = ModelStore.defaultEndpoint,
        isOffline: Bool? = nil,
        token: String? = ProcessInfo.processInfo.environment["HF_TOKEN"],
        retries: Int = 3
    ) {
        self.cacheDirectory = cacheDirectory
        self.endpoint = endpoint
        let env = ProcessInfo.processInfo.environment
        self.isOffline = isOffline ?? (env["MMS_OFFLINE"] == "1" || env["HF_HUB_OFFLINE"] == "1")
        self.token = token
        self.retries = max(0, retries)
    }

    /// The local folder of a repository at a revision (whether or not it is there yet).
    public func folder(for repository: String, revision: String = "main") throws(SearchError) -> URL {
        try Self.validate(repository: repository, revision: revision)
        return cacheDirectory
            .appendingPathComponent(repository.replacingOccurrences(of: "/", with: "--"), isDirectory: true)
            .appendingPathComponent(revision, isDirectory: true)
    }

    /// Makes sure every file is in the cache, downloading what is missing, and
    /// returns the repository's local folder.
    ///
    /// - Throws: ``SearchError`` — `.invalidArgument` for a repository,
    ///   revision or path that could escape the cache; `.notFound` when the
    ///   server has no such file, or when offline and the cache lacks it;
    ///   `.corruptData` for a checksum mismatch; `.io` when the network or disk
    ///   fails (the partial download is kept for the next call to resume).
    public func fetch(
        _ repository: String, revision: String = "main", files: [ModelFile],
        progress: (@Sendable (_ path: String, _ received: Int64, _ total: Int64?) -> Void)? = nil
    ) async throws(SearchError) -> URL {
        let folder = try folder(for: repository, revision: revision)
        for file in files {
            try Self.validate(path: file.path)
            let destination = folder.appendingPathComponent(file.path)
            if try isCached(file, at: destination) { continue }
            if isOffline {
                throw SearchError(
                    .notFound,
                    "\(repository)@\(revision)/\(file.path) is not in the cache at \(folder.path) and the store is offline")
            }
            try await download(file, repository: repository, revision: revision, to: destination, progress: progress)
        }
        return folder
    }

    /// Whether `file` is in place (and verified, when it names a checksum).
    func isCached(_ file: ModelFile, at destination: URL) throws(SearchError) -> Bool {
        let fm = FileManager.default
        guard fm.fileExists(atPath: destination.path) else { return false }
        guard let expected = file.sha256 else { return true }
        let note = destination.appendingPathExtension("sha256")
        if let recorded = try? String(contentsOf: note, encoding: .utf8),
            recorded.trimmingCharacters(in: .whitespacesAndNewlines) == expected
        {
            return true
        }
        let actual = try Self.sha256(of: destination)
        if actual == expected {
            try? expected.write(to: note, atomically: true, encoding: .utf8)
            return true
        }
        // A file that no longer matches (edited, or a different revision) is fetched again.
        try? fm.removeItem(at: destination)
        return false
    }

    /// The lower-case hex SHA-256 of a file, read in 1 MiB chunks.
    static func sha256(of url: URL) throws(SearchError) -> String {
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            var hasher = SHA256()
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                chunk.withUnsafeBytes { hasher.update($0) }
            }
            return hasher.finalize().hex
        } catch {
            throw SearchError(.io, "cannot read \(url.path) to check its checksum", underlying: error)
        }
    }

    // MARK: - Validation (nothing may escape the cache)

    private static let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")

    static func validate(repository: String, revision: String) throws(SearchError) {
        let parts = repository.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ isSafeComponent($0) }) else {
            throw SearchError(
                .invalidArgument, "\"\(repository)\" is not a repository id like \"owner/name\" (letters, digits, - _ .)")
        }
        guard isSafeComponent(Substring(revision)) else {
            throw SearchError(.invalidArgument, "\"\(revision)\" is not a revision name or commit (letters, digits, - _ .)")
        }
    }

    static func validate(path: String) throws(SearchError) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !parts.isEmpty, parts.allSatisfy({ isSafeComponent($0) }) else {
            throw SearchError(
                .invalidArgument, "\"\(path)\" is not a relative file path inside the repository (no \"..\", no leading \"/\")")
        }
    }

    private static func isSafeComponent(_ s: Substring) -> Bool {
        !s.isEmpty && s != "." && s != ".." && s.allSatisfy { allowed.contains($0) }
    }
}
