import Testing
import _TestSupport

@testable import Tensor

/// Every kernel, in every variant this CPU supports (portable always), against
/// a double-precision scalar reference, on aligned and misaligned buffers.
@Suite("C kernels")
struct KernelTests {
    static let lengths = [0, 1, 3, 15, 16, 17, 63, 64, 65, 384, 511, 512, 513, 768, 1024]
    static let shifts = [0, 1, 3]

    static var variants: [Kernels] { Kernels.supported }

    @Test("the portable variant is always available and the active one is supported")
    func variantsAvailable() {
        #expect(Kernels(level: .portable) != nil)
        #expect(Kernels.active.level <= Kernels.bestSupportedLevel)
        #expect(Kernels.supported.first?.level == .portable)
        // This architecture's levels are offered up to the best, and no other level is.
        let best = Kernels.bestSupportedLevel
        #expect(KernelLevel.architectureLevels.contains(best))
        for level in KernelLevel.allCases {
            let offered = KernelLevel.architectureLevels.contains(level) && level <= best
            #expect((Kernels(level: level) != nil) == offered, "\(level)")
        }
        #if arch(x86_64)
        // This project's CI machine has AVX-512; on any x86-64 with AVX2 the
        // AVX2 variant must be offered.
        if Kernels.bestSupportedLevel >= .avx2 { #expect(Kernels(level: .avx2) != nil) }
        #expect(Kernels(level: .neon) == nil && Kernels(level: .neonDotProduct) == nil)
        #elseif arch(arm64)
        // Every arm64 CPU the package runs on has NEON; SDOT is optional (Armv8.2).
        #expect(Kernels(level: .neon) != nil)
        #expect(Kernels(level: .avx2) == nil && Kernels(level: .avx512) == nil)
        if Kernels.bestSupportedLevel == .neonDotProduct { #expect(Kernels(level: .neonDotProduct) != nil) }
        #endif
    }

    @Test("f32 dot, squared L2, cosine, sums and max magnitude", arguments: lengths)
    func pairwise(length n: Int) {
        var rng = SeededGenerator(seed: UInt64(n) &+ 11)
        let a = rng.floats(n), b = rng.floats(n)
        var dot = 0.0, l2 = 0.0, aa = 0.0, bb = 0.0, sum = 0.0, absSum = 0.0, maxAbs = 0.0
        var dotMagnitude = 0.0, l2Magnitude = 0.0
        for i in 0..<n {
            let x = Double(a[i]), y = Double(b[i])
            dot += x * y
            dotMagnitude += abs(x * y)
            l2 += (x - y) * (x - y)
            l2Magnitude += (x - y) * (x - y)
            aa += x * x
            bb += y * y
            sum += x
            absSum += abs(x)
            maxAbs = max(maxAbs, abs(x))
        }
        let cosine = aa > 0 && bb > 0 ? dot / (aa.squareRoot() * bb.squareRoot()) : 0
        for kernels in Self.variants {
            for shift in Self.shifts {
                let ma = MisalignedBuffer(a, shift: shift), mb = MisalignedBuffer(b, shift: shift + 1)
                let label = "\(kernels.level) n=\(n) shift=\(shift)"
                let gotDot = Double(kernels.dot(ma.pointer, mb.pointer, count: n))
                #expect(
                    Tolerance.isClose(gotDot, dot, within: Tolerance.reduction(terms: n, sumOfMagnitudes: dotMagnitude)),
                    "dot \(label): \(gotDot) vs \(dot)")
                let gotL2 = Double(kernels.squaredL2(ma.pointer, mb.pointer, count: n))
                #expect(
                    Tolerance.isClose(gotL2, l2, within: Tolerance.reduction(terms: n, sumOfMagnitudes: 2 * l2Magnitude)),
                    "l2 \(label): \(gotL2) vs \(l2)")
                let gotCos = Double(kernels.cosine(ma.pointer, mb.pointer, count: n))
                // Cosine divides three reductions; 1e-5 is ~100 ulps at 1.0.
                #expect(abs(gotCos - cosine) <= 1e-5, "cosine \(label): \(gotCos) vs \(cosine)")
                let gotSum = Double(kernels.sum(ma.pointer, count: n))
                #expect(
                    Tolerance.isClose(gotSum, sum, within: Tolerance.reduction(terms: n, sumOfMagnitudes: absSum)),
                    "sum \(label): \(gotSum) vs \(sum)")
                let gotSq = Double(kernels.sumOfSquares(ma.pointer, count: n))
                #expect(
                    Tolerance.isClose(gotSq, aa, within: Tolerance.reduction(terms: n, sumOfMagnitudes: aa)),
                    "sum of squares \(label)")
                #expect(Double(kernels.maxMagnitude(ma.pointer, count: n)) == maxAbs, "max magnitude \(label)")
            }
        }
    }

    @Test("one query against many rows matches the pairwise kernels", arguments: [1, 17, 64, 384, 513])
    func oneToMany(length n: Int) {
        var rng = SeededGenerator(seed: UInt64(n) &* 31)
        let rowCount = 9, stride = n + 5
        let q = rng.floats(n), rows = rng.floats(rowCount * stride)
        for kernels in Self.variants {
            let mq = MisalignedBuffer(q, shift: 1), mr = MisalignedBuffer(rows, shift: 2)
            var out = [Float](repeating: .nan, count: rowCount)
            for metric in 0..<3 {
                out.withUnsafeMutableBufferPointer { o in
                    switch metric {
                    case 0:
                        kernels.dot(mq.pointer, rows: mr.pointer, stride: stride, rowCount: rowCount, count: n, into: o.baseAddress!)
                    case 1:
                        kernels.squaredL2(mq.pointer, rows: mr.pointer, stride: stride, rowCount: rowCount, count: n, into: o.baseAddress!)
                    default:
                        kernels.cosine(mq.pointer, rows: mr.pointer, stride: stride, rowCount: rowCount, count: n, into: o.baseAddress!)
                    }
                }
                for r in 0..<rowCount {
                    let row = mr.pointer + r * stride
                    let expected: Float =
                        switch metric {
                        case 0: kernels.dot(mq.pointer, row, count: n)
                        case 1: kernels.squaredL2(mq.pointer, row, count: n)
                        default: kernels.cosine(mq.pointer, row, count: n)
                        }
                    // Same kernel family, same order of summation per row up to
                    // how the norms are grouped: agree to a few ulps.
                    #expect(abs(out[r] - expected) <= 1e-5 * max(1, abs(expected)), "\(kernels.level) metric \(metric) row \(r)")
                }
            }
        }
    }

    @Test("f32 × f16 dot and squared L2", arguments: lengths)
    func mixedHalf(length n: Int) {
        var rng = SeededGenerator(seed: UInt64(n) &+ 101)
        let a = rng.floats(n)
        let halves = rng.floats(n).map { Half($0) }
        var dot = 0.0, l2 = 0.0, magnitude = 0.0
        for i in 0..<n {
            let x = Double(a[i]), y = Double(halves[i].float)
            dot += x * y
            magnitude += abs(x * y)
            l2 += (x - y) * (x - y)
        }
        for kernels in Self.variants {
            for shift in Self.shifts {
                let ma = MisalignedBuffer(a, shift: shift), mh = MisalignedBuffer(halves, shift: shift + 1)
                let gotDot = Double(kernels.dot(ma.pointer, mh.pointer, count: n))
                #expect(
                    Tolerance.isClose(gotDot, dot, within: Tolerance.reduction(terms: n, sumOfMagnitudes: magnitude)),
                    "\(kernels.level) n=\(n): \(gotDot) vs \(dot)")
                let gotL2 = Double(kernels.squaredL2(ma.pointer, mh.pointer, count: n))
                #expect(
                    Tolerance.isClose(gotL2, l2, within: Tolerance.reduction(terms: n, sumOfMagnitudes: 2 * l2)),
                    "\(kernels.level) n=\(n): \(gotL2) vs \(l2)")
                var many = [Float](repeating: 0, count: 1)
                many.withUnsafeMutableBufferPointer {
                    kernels.dot(ma.pointer, rows: mh.pointer, stride: n, rowCount: 1, count: n, into: $0.baseAddress!)
                }
                #expect(Tolerance.isClose(Double(many[0]), dot, within: Tolerance.reduction(terms: n, sumOfMagnitudes: magnitude)))
            }
        }
    }

    @Test("int8 dot is exact over the full range, −128 included", arguments: lengths + [4096])
    func int8Dot(length n: Int) {
        var rng = SeededGenerator(seed: UInt64(n) &+ 7)
        var a = (0..<n).map { _ in Int8.random(in: .min ... .max, using: &rng) }
        var b = (0..<n).map { _ in Int8.random(in: .min ... .max, using: &rng) }
        if n > 2 {
            a[0] = -128
            b[0] = -128
            a[1] = 127
            b[1] = -128
        }
        var expected: Int64 = 0
        for i in 0..<n { expected += Int64(a[i]) * Int64(b[i]) }
        for kernels in Self.variants {
            for shift in Self.shifts {
                let ma = MisalignedBuffer(a, shift: shift), mb = MisalignedBuffer(b, shift: shift + 2)
                #expect(Int64(kernels.dot(ma.pointer, mb.pointer, count: n)) == expected, "\(kernels.level) n=\(n) shift=\(shift)")
                var many = [Int32](repeating: 0, count: 1)
                many.withUnsafeMutableBufferPointer {
                    kernels.dot(ma.pointer, rows: mb.pointer, stride: n, rowCount: 1, count: n, into: $0.baseAddress!)
                }
                #expect(Int64(many[0]) == expected)
            }
        }
    }

    @Test("the worst-case int8 dot at the documented length limit is exact")
    func int8DotExtreme() {
        let n = 131_071  // the largest length the kernel promises
        let a = [Int8](repeating: -128, count: n), b = [Int8](repeating: -128, count: n)
        let expected = Int64(n) * 128 * 128
        for kernels in Self.variants {
            let got = a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in kernels.dot(pa.baseAddress!, pb.baseAddress!, count: n) }
            }
            #expect(Int64(got) == expected, "\(kernels.level)")
        }
    }

    @Test("quantize and dequantize agree with the scalar definition in every variant", arguments: lengths)
    func quantizeMatchesDefinition(length n: Int) {
        var rng = SeededGenerator(seed: UInt64(n) &+ 5)
        var x = rng.floats(n, in: -3...3)
        // Ties, clamping and NaN.
        let specials: [Float] = [0.5, -0.5, 1.5, 2.5, -2.5, 1000, -1000, .nan, .infinity, -.infinity, 0, -0.0]
        for (i, s) in specials.enumerated() where i < n { x[i] = s }
        let inverseScale: Float = 42.3
        let expected: [Int8] = x.map { v in
            let scaled = v * inverseScale
            if scaled.isNaN { return 0 }
            return Int8(max(-127, min(127, scaled)).rounded(.toNearestOrEven))
        }
        for kernels in Self.variants {
            let mx = MisalignedBuffer(x, shift: 1)
            var codes = [Int8](repeating: 99, count: n + 1)
            codes.withUnsafeMutableBufferPointer {
                kernels.quantize(mx.pointer, count: n, inverseScale: inverseScale, into: $0.baseAddress!)
            }
            #expect(Array(codes.prefix(n)) == expected, "\(kernels.level) n=\(n)")
            #expect(codes[n] == 99, "\(kernels.level) wrote past the end")
            var back = [Float](repeating: .nan, count: n + 1)
            back[n] = 7
            codes.withUnsafeBufferPointer { c in
                back.withUnsafeMutableBufferPointer { kernels.dequantize(c.baseAddress!, count: n, scale: 0.25, into: $0.baseAddress!) }
            }
            #expect(Array(back.prefix(n)) == expected.map { Float($0) * 0.25 }, "\(kernels.level) n=\(n)")
            #expect(back[n] == 7, "\(kernels.level) dequantize wrote past the end")
        }
    }

    @Test("maximum magnitude is NaN when any element is NaN")
    func maxMagnitudeNaN() {
        for kernels in Self.variants {
            for position in [0, 5, 16, 40] {
                var x = [Float](repeating: 1, count: 41)
                x[position] = .nan
                let m = x.withUnsafeBufferPointer { kernels.maxMagnitude($0.baseAddress!, count: $0.count) }
                #expect(m.isNaN, "\(kernels.level) NaN at \(position)")
            }
        }
    }

    @Test("NaN and Inf propagate through the float kernels")
    func nonFinitePropagation() {
        for kernels in Self.variants {
            var a = [Float](repeating: 1, count: 33), b = [Float](repeating: 1, count: 33)
            a[20] = .nan
            #expect(a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { kernels.dot(pa.baseAddress!, $0.baseAddress!, count: 33) } }.isNaN)
            a[20] = .infinity
            b[20] = 2
            #expect(a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { kernels.dot(pa.baseAddress!, $0.baseAddress!, count: 33) } } == .infinity)
        }
    }

    @Test("a zero vector has cosine 0 with anything")
    func zeroCosine() {
        let zero = [Float](repeating: 0, count: 20), one = [Float](repeating: 1, count: 20)
        for kernels in Self.variants {
            let c = zero.withUnsafeBufferPointer { z in one.withUnsafeBufferPointer { kernels.cosine(z.baseAddress!, $0.baseAddress!, count: 20) } }
            #expect(c == 0)
        }
    }
}
