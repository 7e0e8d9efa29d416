import Dispatch
import Synchronization
import Tensor

/// The work between a transformer block's GEMMs — attention per sequence and
/// head, layer norms and copies row by row — spread over the threads the
/// packed GEMM splits its columns over (``Tensor/BLAS/threadCount``), so that
/// in a large pass the second core does not wait while one thread works
/// through thousands of rows or heads.
///
/// A small pass (one picture, a short text) stays on the calling thread: the
/// split starts where each thread gets as much work as the GEMM's own split
/// asks for, so a dispatch never costs more than it saves.
extension TransformerStack {
    /// Multiply-adds of attention per thread below which attention runs on the calling thread
    /// (the packed GEMM's bound for its column split).
    static let attentionWorkPerThread = 1 << 22
    /// Elements per thread below which row-wise work (layer norms, copies) runs on the calling thread.
    static let rowElementsPerThread = 1 << 16

    /// Whether every block's projection runs on the package's packed FP32 GEMM,
    /// whose rows do not interact: then a batch's sequences can be cut into
    /// groups, each run through the stack on its own thread, and every row comes
    /// out bit for bit as in one pass over the whole batch on one thread.
    var splitsExactly: Bool {
        func packed(_ weight: LinearWeight) -> Bool {
            if case .float32(let matrix) = weight { return matrix.isPacked }
            return false
        }
        return layers.allSatisfy { packed($0.qkvWeight) && packed($0.outWeight) && packed($0.fc1Weight) && packed($0.fc2Weight) }
    }

    /// Threads for `work` units when each thread should get at least `perThread`, at most `available`.
    static func threads(work: Int, perThread: Int, available: Int) -> Int {
        Swift.max(1, Swift.min(available, work / perThread))
    }

    /// Threads for attention over `sequences` with `heads` heads of `headWidth`: q·kᵀ and
    /// weights·v are `2·n²·headWidth` multiply-adds per sequence of `n` tokens and head.
    static func attentionThreads(sequences: [Range<Int>], heads: Int, headWidth: Int, available: Int) -> Int {
        guard available > 1, sequences.count * heads > 1 else { return 1 }
        let work = sequences.reduce(0) { $0 + 2 * $1.count * $1.count } * headWidth * heads
        return threads(work: work, perThread: attentionWorkPerThread, available: available)
    }

    /// Calls `body` with contiguous blocks of `0..<rows`, one per thread, on `threads` threads
    /// (on the calling thread alone when `threads` is 1).
    static func forEachRowBlock(rows: Int, threads: Int, _ body: @Sendable (Range<Int>) -> Void) {
        guard threads > 1, rows > 1 else {
            body(0..<rows)
            return
        }
        let count = Swift.min(threads, rows)
        DispatchQueue.concurrentPerform(iterations: count) { t in
            body((rows * t / count)..<(rows * (t + 1) / count))
        }
    }

    /// Layer normalisation of rows `0..<rows` of `source` (`width` floats each) into `target`
    /// (the same rows in place when they are the same buffer), split over up to `threads`
    /// threads when there are at least ``rowElementsPerThread`` elements per thread.
    /// Every row is computed as on one thread (bit for bit).
    static func layerNormRows(
        _ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, rows: Int, width: Int,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, epsilon: Float, threads: Int
    ) {
        let rows = Swift.max(rows, 0)
        let threads = Self.threads(work: rows * width, perThread: rowElementsPerThread, available: threads)
        let shared = SharedRows(source: UnsafeMutablePointer(mutating: source), target: target, gamma: gamma, beta: beta)
        forEachRowBlock(rows: rows, threads: threads) { block in
            guard !block.isEmpty else { return }
            let source = shared.source + block.lowerBound * width, target = shared.target + block.lowerBound * width
            if source != target { target.update(from: source, count: block.count * width) }
            for t in 0..<block.count {
                FastMath.layerNorm(target + t * width, count: width, gamma: shared.gamma, beta: shared.beta, epsilon: epsilon)
            }
        }
    }

    /// Scaled dot-product attention per sequence and head through
    /// ``Tensor/Kernels/attention(q:k:v:stride:tokens:headWidth:scale:causal:scratch:into:outputStride:)``,
    /// reading q, k and v in place from the fused projection; writes `[tokens, width]` into `context`.
    /// Each (sequence, head) is one job, taken in order from a shared counter by `threads` threads;
    /// thread `t` uses the `scratchCount` floats at `scratch + t·scratchCount`.
    /// Every job is computed as on one thread (bit for bit), whatever the split.
    static func attention(
        _ qkv: UnsafeMutablePointer<Float>, sequences: [Range<Int>], geometry: TransformerGeometry,
        scratch: UnsafeMutablePointer<Float>, scratchCount: Int, threads: Int, into context: UnsafeMutablePointer<Float>
    ) {
        let jobs = AttentionJobs(
            qkv: qkv, context: context, scratch: scratch, scratchCount: scratchCount, sequences: sequences,
            width: geometry.width, headWidth: geometry.headWidth, heads: geometry.heads, causal: geometry.causal,
            kernels: Kernels.active)
        let count = sequences.count * geometry.heads
        guard threads > 1, count > 1 else {
            for index in 0..<count { jobs.run(index, thread: 0) }
            return
        }
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: Swift.min(threads, count)) { t in
            while true {
                let index = next.add(1, ordering: .relaxed).oldValue
                guard index < count else { return }
                jobs.run(index, thread: t)
            }
        }
    }
}

/// One pass's attention as (sequence, head) jobs, shared by the threads of its split.
///
/// `@unchecked Sendable` is sound because each job reads q, k and v and
/// writes only its own sequence's rows of `context` in its own head's
/// columns (jobs are disjoint and each index is taken once), each thread
/// uses only its own slice of `scratch`, and the buffers outlive the split:
/// `DispatchQueue.concurrentPerform` returns after every thread has finished.
private struct AttentionJobs: @unchecked Sendable {
    let qkv: UnsafeMutablePointer<Float>
    let context: UnsafeMutablePointer<Float>
    let scratch: UnsafeMutablePointer<Float>
    let scratchCount: Int
    let sequences: [Range<Int>]
    let width: Int, headWidth: Int, heads: Int
    let causal: Bool
    let kernels: Kernels

    /// Job `index`: sequence `index / heads`, head `index % heads`, on thread `thread`'s scratch.
    func run(_ index: Int, thread: Int) {
        let sequence = sequences[index / heads], h = index % heads
        let n = sequence.count
        guard n > 0 else { return }
        let w = width, d = headWidth
        let base = qkv + sequence.lowerBound * 3 * w
        kernels.attention(
            q: base + h * d, k: base + w + h * d, v: base + 2 * w + h * d, stride: 3 * w, tokens: n,
            headWidth: d, scale: 1 / Float(d).squareRoot(), causal: causal, scratch: scratch + thread * scratchCount,
            into: context + sequence.lowerBound * w + h * d, outputStride: w)
    }
}

/// Pointers into one pass's activations, shared by the threads of a row-wise or attention split.
///
/// `@unchecked Sendable` is sound because every thread of a split writes only
/// its own rows of `target` (its block of rows, or the rows and head columns
/// of the (sequence, head) jobs it took from the counter, which are disjoint)
/// and its own slice of scratch, reads `source`, `gamma` and `beta` only, and
/// the buffers outlive the split: `DispatchQueue.concurrentPerform` returns
/// after every thread has finished.
private struct SharedRows: @unchecked Sendable {
    let source: UnsafeMutablePointer<Float>
    let target: UnsafeMutablePointer<Float>
    let gamma: UnsafePointer<Float>
    let beta: UnsafePointer<Float>
}
