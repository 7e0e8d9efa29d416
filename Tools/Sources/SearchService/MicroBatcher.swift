import Dispatch
import SearchCore
import Synchronization

/// What a submission leads to.
private enum BatcherStep {
    case refuse, schedule(Duration), nothing
}

/// Coalesces the encoder work of concurrent requests: each caller submits
/// one input and waits; a worker on its own thread takes up to `maxBatch`
/// waiting inputs at once and runs `work` over them in one call.
///
/// When the worker is idle, the first input waits up to `maxWait` for
/// company; while it is busy, inputs gather by themselves and the next batch
/// starts as soon as it is free. At most `maxQueued` inputs wait; more are
/// refused at once. Inputs whose deadline passed while they waited are
/// answered without being encoded.
///
/// The encoder work runs on a dedicated serial queue, never on the
/// cooperative thread pool, so a forward pass does not hold up the tasks
/// that accept and answer requests.
final class MicroBatcher<Input: Sendable, Output: Sendable>: Sendable {
    typealias Work = @Sendable ([Input]) -> [Result<Output, SearchError>]

    struct Pending {
        var input: Input
        var enqueued: ContinuousClock.Instant
        var deadline: ContinuousClock.Instant
        var continuation: CheckedContinuation<Result<Output, ServiceError>, Never>
    }

    private struct State {
        var pending: [Pending] = []
        var head = 0
        var scheduled = false
        var count: Int { pending.count - head }
    }

    let name: String
    let maxBatch: Int
    let maxWait: Duration
    let maxQueued: Int
    private let work: Work
    private let metrics: ServiceMetrics
    private let queue: DispatchQueue
    private let state = Mutex(State())

    init(name: String, maxBatch: Int, maxWait: Duration, maxQueued: Int, metrics: ServiceMetrics, work: @escaping Work) {
        precondition(maxBatch > 0 && maxQueued > 0, "a batcher needs a positive batch size and queue")
        self.name = name
        self.maxBatch = maxBatch
        self.maxWait = maxWait
        self.maxQueued = maxQueued
        self.metrics = metrics
        self.work = work
        queue = DispatchQueue(label: "mms.encoder.\(name)", qos: .userInitiated)
    }

    /// Waiting inputs.
    var depth: Int { state.withLock { $0.count } }

    /// Encodes `input` in the next batch.
    func submit(_ input: Input, deadline: ContinuousClock.Instant) async -> Result<Output, ServiceError> {
        await withCheckedContinuation { continuation in
            let entry = Pending(input: input, enqueued: .now, deadline: deadline, continuation: continuation)
            let (next, depth): (BatcherStep, Int) = state.withLock { s in
                guard s.count < maxQueued else { return (.refuse, s.count) }
                s.pending.append(entry)
                guard !s.scheduled else { return (.nothing, s.count) }
                s.scheduled = true
                return (.schedule(s.count >= maxBatch ? .zero : maxWait), s.count)
            }
            metrics.queueDepth(encoder: name, depth)
            switch next {
            case .refuse:
                metrics.rejected("encoder_queue_full")
                continuation.resume(
                    returning: .failure(.overloaded("the \(name) encoder's queue is full (\(maxQueued) waiting); retry later")))
            case .schedule(let wait):
                let nanoseconds = Int(ServiceMetrics.nanoseconds(wait))
                queue.asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) { self.drain() }
            case .nothing:
                break
            }
        }
    }

    /// Runs batches until nothing waits (on the serial queue).
    private func drain() {
        while true {
            let batch: [Pending] = state.withLock { s in
                let n = min(maxBatch, s.count)
                let taken = Array(s.pending[s.head..<(s.head + n)])
                s.head += n
                if s.count == 0 {
                    s.pending.removeAll(keepingCapacity: true)
                    s.head = 0
                    s.scheduled = false
                } else if s.head > 1024 {
                    s.pending.removeFirst(s.head)
                    s.head = 0
                }
                return taken
            }
            if batch.isEmpty { return }
            let now = ContinuousClock.now
            var live: [Pending] = []
            for p in batch {
                if p.deadline < now {
                    metrics.rejected("deadline")
                    p.continuation.resume(returning: .failure(.deadlineExceeded))
                } else {
                    live.append(p)
                }
            }
            metrics.queueDepth(encoder: name, depth)
            guard !live.isEmpty else { continue }
            metrics.batch(encoder: name, size: live.count, waits: live.map { now - $0.enqueued })
            let outputs = work(live.map(\.input))
            for (p, output) in zip(live, outputs) {
                p.continuation.resume(returning: output.mapError { ServiceError($0) })
            }
        }
    }
}
