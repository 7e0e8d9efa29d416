import Foundation
import SearchCore

/// Runs the adapter's asynchronous work for its synchronous ``VectorIndex``
/// requirements.
///
/// A synchronous requirement blocks its caller until the gRPC call ends. Were
/// the work scheduled on Swift's cooperative pool, callers blocking every
/// thread of that pool (two on a two-core machine) would wait for work that
/// can never run. So the work prefers a task executor with one thread of its
/// own, which no blocking caller ever occupies: the caller waits on a
/// semaphore, the bridge thread runs the task, and the gRPC transport's
/// event loop delivers the responses.
final class BlockingBridge: TaskExecutor, @unchecked Sendable {
    // @unchecked Sendable: `jobs` and `thread` are read and written only while
    // `condition` is locked; the thread itself only runs jobs.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var thread: Thread?

    /// One bridge for every index in the process: its thread only forwards
    /// work between waits on the network.
    static let shared = BlockingBridge()

    private init() {}

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        if thread == nil {
            let thread = Thread { [unowned self] in self.run() }
            thread.name = "mms-milvus-bridge"
            self.thread = thread
            thread.start()
        }
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
    }

    /// Runs `operation` on the bridge and blocks the calling thread until it
    /// finishes. Never call it from the bridge's own thread.
    func wait<T: Sendable>(_ operation: @escaping @Sendable () async throws(SearchError) -> T) throws(SearchError) -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        Task(executorPreference: self) {
            box.set(await Self.capture(operation))
            done.signal()
        }
        done.wait()
        return try box.get()
    }

    // An untyped helper: typed-throws closures may infer `any Error` (Swift 6.3.1).
    private static func capture<T>(_ operation: () async throws(SearchError) -> T) async -> Result<T, SearchError> {
        do { return .success(try await operation()) } catch { return .failure(error) }
    }
}

/// A result handed from the bridge's task to the blocked caller.
private final class ResultBox<T: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: written once by the task before it signals the
    // semaphore, read once by the caller after the wait returns; the
    // semaphore orders the two accesses.
    private var result: Result<T, SearchError>?

    func set(_ result: Result<T, SearchError>) { self.result = result }

    func get() throws(SearchError) -> T {
        guard let result else { throw SearchError(.cancelled, "the Milvus call ended without a result") }
        return try result.get()
    }
}
