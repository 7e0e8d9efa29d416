@testable import Encoders
import Tensor
import Testing

/// The work between a block's GEMMs split over threads: attention jobs taken
/// from a shared counter and layer norms by blocks of rows must give exactly
/// what one thread gives (each job and row is the same arithmetic, only the
/// thread differs), so a batch's embeddings do not depend on the thread count.
@Suite("TransformerStack: attention and layer norms split over threads")
struct TransformerSplitTests {
    /// Seeded values in −1…1.
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state >> 11) % 2_000_001 - 1_000_000) / 1_000_000
        }
    }

    static func geometry(causal: Bool) -> TransformerGeometry {
        TransformerGeometry(
            width: 48, heads: 3, layers: 1, mlpWidth: 96, activation: .gelu, layerNormEpsilon: 1e-5,
            placement: .pre, causal: causal)
    }

    @Test("attention over uneven sequences on 1, 2 and 3 threads is bit for bit the same", arguments: [false, true])
    func attentionSplit(causal: Bool) {
        let geometry = Self.geometry(causal: causal)
        // Uneven lengths, one empty, so jobs differ in cost and the counter hands them out unevenly.
        let lengths = [7, 1, 0, 13, 5, 9]
        var sequences: [Range<Int>] = []
        var tokens = 0
        for n in lengths {
            sequences.append(tokens..<(tokens + n))
            tokens += n
        }
        let qkv = Self.values(tokens * 3 * geometry.width, seed: 7)
        let scratchCount = Kernels.attentionScratchCount(tokens: 13, headWidth: geometry.headWidth)
        func run(threads: Int) -> [Float] {
            var qkv = qkv
            var scratch = [Float](repeating: .nan, count: threads * scratchCount)
            var context = [Float](repeating: .nan, count: tokens * geometry.width)
            qkv.withUnsafeMutableBufferPointer { q in
                scratch.withUnsafeMutableBufferPointer { s in
                    context.withUnsafeMutableBufferPointer { c in
                        TransformerStack.attention(
                            q.baseAddress!, sequences: sequences, geometry: geometry, scratch: s.baseAddress!,
                            scratchCount: scratchCount, threads: threads, into: c.baseAddress!)
                    }
                }
            }
            return context
        }
        let one = run(threads: 1)
        let written = one.allSatisfy { $0.isFinite }
        #expect(written, "every row of every head is written")
        #expect(run(threads: 2) == one)
        #expect(run(threads: 3) == one)
    }

    @Test("layer norms by blocks of rows, in place and into another buffer, equal one thread's")
    func layerNormSplit() {
        let width = 384
        // Enough rows that two threads get rowElementsPerThread each.
        let rows = 2 * TransformerStack.rowElementsPerThread / width + 3
        let x = Self.values(rows * width, seed: 11).map { 3 + 2 * $0 }
        let gamma = Self.values(width, seed: 12), beta = Self.values(width, seed: 13)
        func run(threads: Int, inPlace: Bool) -> [Float] {
            var source = x
            var target = [Float](repeating: .nan, count: x.count)
            gamma.withUnsafeBufferPointer { g in
                beta.withUnsafeBufferPointer { b in
                    source.withUnsafeMutableBufferPointer { s in
                        target.withUnsafeMutableBufferPointer { t in
                            TransformerStack.layerNormRows(
                                s.baseAddress!, into: inPlace ? s.baseAddress! : t.baseAddress!, rows: rows, width: width,
                                gamma: g.baseAddress!, beta: b.baseAddress!, epsilon: 1e-5, threads: threads)
                        }
                    }
                }
            }
            return inPlace ? source : target
        }
        let one = run(threads: 1, inPlace: false)
        #expect(TransformerStack.threads(work: rows * width, perThread: TransformerStack.rowElementsPerThread, available: 2) == 2)
        // Row 0 against the definition (two-pass mean and biased variance, as PyTorch).
        var reference = Array(x[0..<width])
        let mean = reference.reduce(0, +) / Float(width)
        let variance = reference.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(width)
        for i in 0..<width { reference[i] = (reference[i] - mean) / (variance + 1e-5).squareRoot() * gamma[i] + beta[i] }
        // Float sums in another order: within 1e-4 of values of order 1.
        let worst = zip(reference, one[0..<width]).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-4)
        #expect(run(threads: 2, inPlace: false) == one)
        #expect(run(threads: 2, inPlace: true) == one)
        #expect(run(threads: 1, inPlace: true) == one)
    }
}
