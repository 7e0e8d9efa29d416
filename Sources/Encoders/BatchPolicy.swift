import Dispatch
import Foundation
import SearchCore
import Synchronization
import Tensor

/// How an encoder splits a large batch: into forward passes of at most
/// ``maximumBatchSize`` items (which bounds activation memory), run up to
/// ``concurrency`` at a time on separate threads (which keeps cores busy).
///
/// ```swift
/// var images = try CLIPImageEncoder(directory: "clip-vit-base-patch32")
/// images.batching = BatchPolicy(maximumBatchSize: 16, concurrency: 2)  // two cores, 16 images per pass
/// ```
///
/// A forward pass of `n` items over `t` tokens each holds about
/// `n · t · (8·width + mlpWidth) + t² ` floats of activations (ViT-B/32,
/// 50 tokens: about 1.4 MB per image), plus, for encoded images, the
/// preprocessed inputs (600 KB per 224-pixel image). Each concurrent pass
/// keeps its own buffers.
///
/// With ``concurrency`` above 1, give OpenBLAS one thread (the encoder's
/// `threadCount = 1`, or `OPENBLAS_NUM_THREADS=1`) so the passes do not
/// oversubscribe the cores; the policy leaves that process-wide setting
/// alone. `mms-bench encoders` measures two passes on one OpenBLAS thread
/// each against one pass on two OpenBLAS threads.
///
/// An image encoder decodes and preprocesses a pass's encoded and RGB
/// pictures on ``preprocessingConcurrency`` threads before the pass's one
/// forward pass; when passes already run concurrently, each preprocesses
/// its own pictures on its own thread. With ``concurrency`` 1, a pass of at
/// least ``CLIPImageEncoder/picturesPerGroup`` pictures per GEMM thread
/// splits by pictures inside the encoder (each thread preprocesses and
/// embeds its share with one-thread GEMMs; the same embeddings, bit for
/// bit), so one pass on two OpenBLAS threads keeps both cores busy without
/// two sets of activation buffers.
public struct BatchPolicy: Sendable, Hashable {
    /// The most items in one forward pass; larger batches are cut into passes this size or smaller.
    public var maximumBatchSize: Int
    /// How many passes run at once, each on its own thread. 1 runs the passes one after another.
    public var concurrency: Int
    /// How many threads decode and preprocess one pass's pictures when
    /// passes run one at a time (``concurrency`` 1); the machine's active
    /// processor count by default. Ignored by text encoders.
    public var preprocessingConcurrency: Int

    /// - Precondition: all are at least 1 (`preprocessingConcurrency` nil: the active processor count).
    public init(maximumBatchSize: Int = 64, concurrency: Int = 1, preprocessingConcurrency: Int? = nil) {
        precondition(maximumBatchSize >= 1, "a batch policy needs maximumBatchSize ≥ 1, got \(maximumBatchSize)")
        precondition(concurrency >= 1, "a batch policy needs concurrency ≥ 1, got \(concurrency)")
        let preprocessing = preprocessingConcurrency ?? ProcessInfo.processInfo.activeProcessorCount
        precondition(preprocessing >= 1, "a batch policy needs preprocessingConcurrency ≥ 1, got \(preprocessing)")
        self.maximumBatchSize = maximumBatchSize
        self.concurrency = concurrency
        self.preprocessingConcurrency = preprocessing
    }

    /// Threads for preprocessing within one pass: ``preprocessingConcurrency``
    /// when passes run one at a time, else 1 (the passes already fill the threads).
    var preprocessingThreadsPerPass: Int { concurrency > 1 ? 1 : preprocessingConcurrency }

    /// The items of each pass for a batch of `count`: as even as possible, no
    /// more than ``maximumBatchSize`` each, and at least ``concurrency`` passes
    /// when there are that many items.
    func passes(count: Int) -> [Range<Int>] {
        guard count > 0 else { return [] }
        let byMemory = (count + maximumBatchSize - 1) / maximumBatchSize
        let passCount = Swift.max(byMemory, Swift.min(concurrency, count))
        return (0..<passCount).map { i in (i * count / passCount)..<((i + 1) * count / passCount) }
    }

    /// Runs `body` over each pass of a `count`-item batch whose embeddings,
    /// `dimension` floats each, go to `output`; each pass gets its slice of `output`.
    /// The first error thrown (in pass order) is rethrown after every pass has finished.
    func run<E: Error>(
        count: Int, dimension: Int, output: UnsafeMutableBufferPointer<Float>,
        _ body: @Sendable (Range<Int>, UnsafeMutableBufferPointer<Float>) throws(E) -> Void
    ) throws(E) {
        let passes = passes(count: count)
        let output = DisjointOutput(base: output.baseAddress, dimension: dimension)
        let slice = { @Sendable (pass: Range<Int>) in output.slice(pass) }
        let workers = Swift.min(concurrency, passes.count)
        if workers <= 1 {
            for pass in passes { try body(pass, slice(pass)) }
            return
        }
        let failures = Mutex<[Int: E]>([:])
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for p in stride(from: worker, to: passes.count, by: workers) {
                do throws(E) {
                    try body(passes[p], slice(passes[p]))
                } catch {
                    failures.withLock { $0[p] = error }
                }
            }
        }
        if let first = failures.withLock({ $0.min { $0.key < $1.key }?.value }) { throw first }
    }
}

/// The output of a batch, shared by concurrent passes.
///
/// `@unchecked Sendable` is sound because each pass writes only its own
/// items' rows (``BatchPolicy/passes(count:)`` gives disjoint ranges), and
/// the caller's buffer outlives the passes, which finish before
/// ``BatchPolicy/run(count:dimension:output:_:)`` returns.
private struct DisjointOutput: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>?
    let dimension: Int

    func slice(_ items: Range<Int>) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: base.map { $0 + items.lowerBound * dimension }, count: items.count * dimension)
    }
}
