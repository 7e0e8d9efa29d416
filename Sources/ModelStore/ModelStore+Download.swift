import Foundation
import SearchCore
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension ModelStore {
    /// The URL a repository file is served from.
    func remoteURL(repository: String, revision: String, path: String) -> URL {
        endpoint.appendingPathComponent(repository).appendingPathComponent("resolve")
            .appendingPathComponent(revision).appendingPathComponent(path)
    }

    /// Downloads one file into place: stream to `.part`, resume on failure,
    /// verify, rename.
    func download(
        _ file: ModelFile, repository: String, revision: String, to destination: URL,
        progress: (@Sendable (String, Int64, Int64?) -> Void)?
    ) async throws(SearchError) {
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw SearchError(.io, "cannot create \(destination.deletingLastPathComponent().path)", underlying: error)
        }
        let partial = destination.appendingPathExtension("part")
        let url = remoteURL(repository: repository, revision: revision, path: file.path)
        var attempt = 0
        while true {
            let offset = (try? fm.attributesOfItem(atPath: partial.path)[.size] as? Int64) ?? 0
            do throws(TransferFailure) {
                try await transfer(from: url, to: partial, offset: offset) { received, total in
                    progress?(file.path, received, total)
                }
                break
            } catch {
                if error.retryable && attempt < retries {
                    attempt += 1
                    continue
                }
                throw error.error
            }
        }
        if let expected = file.sha256 {
            let actual = try Self.sha256(of: partial)
            guard actual == expected else {
                try? fm.removeItem(at: partial)
                throw SearchError(
                    .corruptData,
                    "\(repository)@\(revision)/\(file.path) has SHA-256 \(actual), expected \(expected); the download was discarded")
            }
        }
        do {
            if fm.fileExists(atPath: destination.path) { try fm.removeItem(at: destination) }
            try fm.moveItem(at: partial, to: destination)
        } catch {
            throw SearchError(.io, "cannot move the download into \(destination.path)", underlying: error)
        }
        if let expected = file.sha256 {
            try? expected.write(to: destination.appendingPathExtension("sha256"), atomically: true, encoding: .utf8)
        }
    }

    struct TransferFailure: Error {
        var error: SearchError
        var retryable: Bool
    }

    /// One HTTP request, appending to `partial` from `offset` (a `Range`
    /// request when non-zero; a server that ignores it restarts the file).
    private func transfer(
        from url: URL, to partial: URL, offset: Int64, progress: @escaping @Sendable (Int64, Int64?) -> Void
    ) async throws(TransferFailure) {
        var request = URLRequest(url: url)
        if offset > 0 { request.setValue("bytes=\(offset)-", forHTTPHeaderField: "Range") }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let delegate = StreamingDelegate(partial: partial, offset: offset, url: url, progress: progress)
        let session = URLSession(configuration: .ephemeral, delegate: delegate, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        let result: Result<Void, TransferFailure> = await withCheckedContinuation { continuation in
            delegate.begin(continuation)
            session.dataTask(with: request).resume()
        }
        try result.get()
    }
}

/// Receives one response body and appends it to the partial file.
///
/// All mutable state sits in a `Mutex`, so the delegate is `Sendable` for real
/// whichever queue URLSession calls it on.
private final class StreamingDelegate: NSObject, URLSessionDataDelegate, Sendable {
    private struct State {
        var continuation: CheckedContinuation<Result<Void, ModelStore.TransferFailure>, Never>?
        var handle: FileHandle?
        var received: Int64 = 0
        var expectedTotal: Int64?
        var failure: ModelStore.TransferFailure?
    }

    private let state = Mutex(State())
    private let partial: URL
    private let offset: Int64
    private let url: URL
    private let progress: @Sendable (Int64, Int64?) -> Void

    init(partial: URL, offset: Int64, url: URL, progress: @escaping @Sendable (Int64, Int64?) -> Void) {
        self.partial = partial
        self.offset = offset
        self.url = url
        self.progress = progress
    }

    func begin(_ continuation: CheckedContinuation<Result<Void, ModelStore.TransferFailure>, Never>) {
        state.withLock { $0.continuation = continuation }
    }

    private func fail(_ code: SearchError.Code, _ message: String, retryable: Bool) -> ModelStore.TransferFailure {
        ModelStore.TransferFailure(error: SearchError(code, message), retryable: retryable)
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
    ) {
        guard let http = response as? HTTPURLResponse else {
            state.withLock { $0.failure = fail(.io, "\(url) did not answer over HTTP", retryable: false) }
            completionHandler(.cancel)
            return
        }
        let status = http.statusCode
        var start: Int64 = 0
        var failure: ModelStore.TransferFailure?
        switch status {
        case 200:
            start = 0  // the whole file: begin again
        case 206:
            // "Content-Range: bytes START-END/TOTAL" must start where we asked.
            let range = http.value(forHTTPHeaderField: "Content-Range") ?? ""
            let fields = range.split(whereSeparator: { " -/".contains($0) })
            if fields.count >= 2, let first = Int64(fields[1]), first == offset {
                start = offset
            } else {
                failure = fail(.io, "\(url) answered a range request with \"\(range)\"; starting over", retryable: true)
                try? FileManager.default.removeItem(at: partial)
            }
        case 416:
            failure = fail(.io, "\(url) refused to resume at byte \(offset); starting over", retryable: true)
            try? FileManager.default.removeItem(at: partial)
        case 404, 410:
            failure = fail(.notFound, "\(url) does not exist (HTTP \(status)); check the repository, revision and path", retryable: false)
        case 401, 403:
            failure = fail(.io, "\(url) refused access (HTTP \(status)); a gated repository needs a token (HF_TOKEN)", retryable: false)
        default:
            failure = fail(.io, "\(url) answered HTTP \(status)", retryable: status >= 500)
        }
        if let failure {
            state.withLock { $0.failure = failure }
            completionHandler(.cancel)
            return
        }
        do {
            if start == 0 || !FileManager.default.fileExists(atPath: partial.path) {
                _ = FileManager.default.createFile(atPath: partial.path, contents: nil)
            }
            let handle = try FileHandle(forWritingTo: partial)
            try handle.truncate(atOffset: UInt64(start))
            try handle.seekToEnd()
            let length = http.expectedContentLength
            state.withLock {
                $0.handle = handle
                $0.received = start
                $0.expectedTotal = length >= 0 ? start + length : nil
            }
            completionHandler(.allow)
        } catch {
            state.withLock {
                $0.failure = ModelStore.TransferFailure(
                    error: SearchError(.io, "cannot write \(partial.path)", underlying: error), retryable: false)
            }
            completionHandler(.cancel)
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let update: (Int64, Int64?)? = state.withLock { s in
            guard let handle = s.handle, s.failure == nil else { return nil }
            do {
                try handle.write(contentsOf: data)
            } catch {
                s.failure = ModelStore.TransferFailure(
                    error: SearchError(.io, "cannot write \(partial.path)", underlying: error), retryable: false)
                return nil
            }
            s.received += Int64(data.count)
            return (s.received, s.expectedTotal)
        }
        if let update { progress(update.0, update.1) }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        let (continuation, result): (CheckedContinuation<Result<Void, ModelStore.TransferFailure>, Never>?, Result<Void, ModelStore.TransferFailure>) =
            state.withLock { s in
                try? s.handle?.synchronize()
                try? s.handle?.close()
                s.handle = nil
                let outcome: Result<Void, ModelStore.TransferFailure>
                if let failure = s.failure {
                    outcome = .failure(failure)
                } else if let error {
                    outcome = .failure(
                        ModelStore.TransferFailure(
                            error: SearchError(
                                .io, "the download of \(url) was interrupted at byte \(s.received); it resumes from there",
                                underlying: TransportError(description: error.localizedDescription)),
                            retryable: true))
                } else if let total = s.expectedTotal, s.received != total {
                    outcome = .failure(
                        ModelStore.TransferFailure(
                            error: SearchError(.io, "the download of \(url) ended at byte \(s.received) of \(total)"),
                            retryable: true))
                } else {
                    outcome = .success(())
                }
                let c = s.continuation
                s.continuation = nil
                return (c, outcome)
            }
        continuation?.resume(returning: result)
    }
}

/// The network layer's description of a failure, kept as the underlying cause.
struct TransportError: Error, Sendable, CustomStringConvertible {
    var description: String
}
