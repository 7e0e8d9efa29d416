import Dispatch
import SearchCore
import Synchronization
import Tensor

/// A large pass split by pictures: each thread preprocesses its own group of
/// the pass's pictures and runs the whole forward pass over them with
/// one-thread GEMMs, instead of every GEMM, attention and layer norm of one
/// pass splitting over the threads.
///
/// Splitting by pictures needs no synchronisation between the layers, lets
/// one thread decode while the other computes, and keeps each thread's rows
/// of activations in its own caches; each thread reads every weight, which
/// costs little once a group has a few hundred tokens (ViT-B/32: 50 a
/// picture). It applies where every row comes out bit for bit as on one
/// thread: CLIP's class-token pooling with every projection packed FP32 (see
/// ``TransformerStack/splitsExactly``). The projection of the final states
/// then runs once over the whole pass on the calling thread, as unsplit.
extension CLIPImageEncoder {
    /// Pictures per thread from which a pass is split by pictures rather than
    /// each GEMM by columns (ViT-B/32: 400 tokens a group).
    static let picturesPerGroup = 8

    /// How many groups, one thread each, a pass of `count` pictures runs in:
    /// the GEMM's threads (``threadCount``, else ``Tensor/BLAS/threadCount``),
    /// at most one per ``picturesPerGroup`` pictures, and 1 where the split
    /// would not be exact.
    func pictureGroups(count: Int) -> Int {
        guard poolingHead == nil, patchWeight.isPacked, stack.splitsExactly else { return 1 }
        let threads = threadCount ?? BLAS.threadCount
        return Swift.max(1, Swift.min(threads, count / Self.picturesPerGroup))
    }

    /// Embeds `count` pictures of ``inputShape`` in `groups` contiguous groups,
    /// one thread each (see ``groupStates(count:groups:slots:prepare:into:)``),
    /// and projects their states together into `output`.
    func embed(
        count: Int, groups: Int, slots: ArenaSlots, prepare: @Sendable (Range<Int>) -> SearchError?,
        into output: UnsafeMutableBufferPointer<Float>
    ) throws(SearchError) {
        try SearchError.checkDimension(output.count, expected: count * dimension, "the output buffer")
        if let threadCount { BLAS.threadCount = threadCount }
        var states = [Float](repeating: 0, count: count * configuration.width)
        let failure = states.withUnsafeMutableBufferPointer { states in
            groupStates(count: count, groups: groups, slots: slots, prepare: prepare, into: states.baseAddress!)
        }
        if let failure { throw failure }
        finish(states, count: count, into: output)
    }

    /// The final states (see ``finalStates(count:sizeOf:pixelsOf:threads:into:)``) of `count`
    /// pictures of ``inputShape`` in `slots`, computed in `groups` contiguous groups, one thread
    /// each: the thread calls `prepare` for its group's range of pictures (which fills their slots,
    /// or returns the error that stops the group), then runs the forward pass over them with
    /// one-thread GEMMs. Returns the error of the first failing group (its first failure, so the
    /// first by position), or nil.
    func groupStates(
        count: Int, groups: Int, slots: ArenaSlots, prepare: @Sendable (Range<Int>) -> SearchError?,
        into states: UnsafeMutablePointer<Float>
    ) -> SearchError? {
        let shape = inputShape
        let ranges = (0..<groups).map { g in (g * count / groups)..<((g + 1) * count / groups) }
        let failures = Mutex<[Int: SearchError]>([:])
        let stateSlots = ArenaSlots(base: states, size: configuration.width)
        DispatchQueue.concurrentPerform(iterations: ranges.count) { g in
            let range = ranges[g]
            guard !range.isEmpty else { return }
            if let error = prepare(range) {
                failures.withLock { $0[g] = error }
                return
            }
            _ = self.finalStates(
                count: range.count, sizeOf: { _ in (shape.width, shape.height) },
                pixelsOf: { i, body in body(UnsafeBufferPointer(slots[range.lowerBound + i])) },
                threads: 1, into: stateSlots[range.lowerBound].baseAddress!)
        }
        return failures.withLock { $0.min { $0.key < $1.key }?.value }
    }
}
