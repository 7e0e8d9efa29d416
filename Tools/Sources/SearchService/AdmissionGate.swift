import Synchronization

/// Bounded concurrency: at most `limit` requests work at once, at most
/// `queueLimit` wait (first come, first served); beyond that a request is
/// refused at once, so memory stays bounded however hard clients push.
final class AdmissionGate: Sendable {
    private struct State {
        var running = 0
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
        var head = 0
        var nextID: UInt64 = 0
        var waiting: Int { waiters.count - head }
    }

    let limit: Int
    let queueLimit: Int
    private let state = Mutex(State())

    init(limit: Int, queueLimit: Int) {
        precondition(limit > 0 && queueLimit >= 0, "the admission gate needs a positive limit and a non-negative queue")
        self.limit = limit
        self.queueLimit = queueLimit
    }

    /// Requests working now.
    var running: Int { state.withLock { $0.running } }
    /// Requests waiting for a turn.
    var waiting: Int { state.withLock { $0.waiting } }

    /// Waits for a turn; false when the queue is full (the caller answers 503).
    func enter() async -> Bool {
        enum Decision { case admitted, refused, wait }
        let decision: Decision = state.withLock { s in
            if s.running < limit {
                s.running += 1
                return .admitted
            }
            return s.waiting < queueLimit ? .wait : .refused
        }
        switch decision {
        case .admitted: return true
        case .refused: return false
        case .wait:
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow: Bool = state.withLock { s in
                    // A turn may have freed between the two locks.
                    if s.running < limit {
                        s.running += 1
                        return true
                    }
                    s.waiters.append((s.nextID, continuation))
                    s.nextID += 1
                    return false
                }
                if resumeNow { continuation.resume() }
            }
            return true
        }
    }

    /// Ends a turn, handing it to the longest waiter if any.
    func leave() {
        let next: CheckedContinuation<Void, Never>? = state.withLock { s in
            if s.waiting > 0 {
                let c = s.waiters[s.head].continuation
                s.head += 1
                if s.head > 64 && s.head * 2 > s.waiters.count {
                    s.waiters.removeFirst(s.head)
                    s.head = 0
                }
                return c  // the turn passes on: running stays the same
            }
            s.running -= 1
            return nil
        }
        next?.resume()
    }
}
