import Synchronization

/// Bounded concurrency: at most `limit` requests work at once, at most
/// `queueLimit` wait (first come, first served); beyond that a request is
/// refused at once, so memory stays bounded however hard clients push.
///
/// With a `maxWait`, the wait itself is bounded too, so that an admitted
/// request's latency stays near `maxWait` plus its own work however long
/// the line outside is:
/// - on arrival, a request whose expected wait (the requests ahead of it ×
///   the mean time a turn is held ÷ `limit`) exceeds `maxWait` is refused at
///   once, so refusals stay fast;
/// - when a turn frees, waiters that have already waited longer than
///   `maxWait` are refused instead of served (the estimate can be wrong when
///   the work slows down), and the turn goes to the oldest one still in time.
final class AdmissionGate: Sendable {
    /// A turn: hand it back with ``leave(_:)``.
    struct Turn: Sendable, Equatable {
        var admitted: ContinuousClock.Instant
    }

    /// Why a request was not let in.
    enum Refusal: Error, Equatable {
        /// `queueLimit` requests were waiting already.
        case queueFull
        /// The expected wait exceeded `maxWait`.
        case expectedWaitTooLong
        /// It waited longer than `maxWait` for a turn.
        case waitedTooLong
    }

    private struct Waiter {
        var enqueued: ContinuousClock.Instant
        var continuation: CheckedContinuation<Result<Turn, Refusal>, Never>
    }

    private struct State {
        var running = 0
        var waiters: [Waiter] = []
        var head = 0
        /// Mean seconds a turn is held (exponentially weighted); nil until one ended.
        var meanHold: Double?
        var waiting: Int { waiters.count - head }

        mutating func popWaiter() -> Waiter {
            let w = waiters[head]
            head += 1
            if head > 64 && head * 2 > waiters.count {
                waiters.removeFirst(head)
                head = 0
            }
            return w
        }
    }

    let limit: Int
    let queueLimit: Int
    let maxWait: Duration?
    private let now: @Sendable () -> ContinuousClock.Instant
    private let state = Mutex(State())

    /// - Parameter now: the clock (tests pass a manual one).
    init(limit: Int, queueLimit: Int, maxWait: Duration? = nil, now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        precondition(limit > 0 && queueLimit >= 0, "the admission gate needs a positive limit and a non-negative queue")
        self.limit = limit
        self.queueLimit = queueLimit
        self.maxWait = maxWait
        self.now = now
    }

    /// Requests working now.
    var running: Int { state.withLock { $0.running } }
    /// Requests waiting for a turn.
    var waiting: Int { state.withLock { $0.waiting } }
    /// The mean time a turn is held, once one has ended.
    var meanHold: Duration? { state.withLock { $0.meanHold.map { Duration.seconds($0) } } }

    /// Waits for a turn, or says why there is none (the caller answers 503).
    func enter() async -> Result<Turn, Refusal> {
        enum Decision { case admitted(Turn), refused(Refusal), wait }
        let arrived = now()
        let maxWaitSeconds = maxWait.map(Self.seconds)
        let decision: Decision = state.withLock { s in
            if s.running < limit {
                s.running += 1
                return .admitted(Turn(admitted: arrived))
            }
            guard s.waiting < queueLimit else { return .refused(.queueFull) }
            if let maxWaitSeconds, let hold = s.meanHold, Double(s.waiting + 1) * hold / Double(limit) > maxWaitSeconds {
                return .refused(.expectedWaitTooLong)
            }
            return .wait
        }
        switch decision {
        case .admitted(let turn): return .success(turn)
        case .refused(let refusal): return .failure(refusal)
        case .wait:
            return await withCheckedContinuation { (continuation: CheckedContinuation<Result<Turn, Refusal>, Never>) in
                let resumeNow: Bool = state.withLock { s in
                    // A turn may have freed between the two locks.
                    if s.running < limit {
                        s.running += 1
                        return true
                    }
                    s.waiters.append(Waiter(enqueued: arrived, continuation: continuation))
                    return false
                }
                if resumeNow { continuation.resume(returning: .success(Turn(admitted: now()))) }
            }
        }
    }

    /// Ends a turn, handing it to the oldest waiter still in time, if any;
    /// waiters past `maxWait` are refused on the way.
    func leave(_ turn: Turn) {
        let t = now()
        let maxWaitSeconds = maxWait.map(Self.seconds)
        let (next, expired): (Waiter?, [Waiter]) = state.withLock { s in
            let held = Self.seconds(t - turn.admitted)
            // About the last 20 turns weigh in.
            s.meanHold = s.meanHold.map { $0 + 0.05 * (held - $0) } ?? held
            var expired: [Waiter] = []
            while s.waiting > 0 {
                let w = s.popWaiter()
                if let maxWaitSeconds, Self.seconds(t - w.enqueued) > maxWaitSeconds {
                    expired.append(w)
                    continue
                }
                return (w, expired)  // the turn passes on: running stays the same
            }
            s.running -= 1
            return (nil, expired)
        }
        for w in expired { w.continuation.resume(returning: .failure(.waitedTooLong)) }
        next?.continuation.resume(returning: .success(Turn(admitted: t)))
    }

    static func seconds(_ d: Duration) -> Double {
        let (s, attoseconds) = d.components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
