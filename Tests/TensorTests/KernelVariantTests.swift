import Foundation
import Testing
import _TestSupport

@testable import Tensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Variant selection, and the cases the SIMD variants handle on paths of their
/// own: int8 at the ends of its range (the AVX2 variant switches arithmetic
/// when an operand holds −128), one-to-many scans against an exact reference,
/// conversions of every tail length, and no read or write past either end of
/// a buffer. Every supported variant runs every case.
@Suite("C kernel variants")
struct KernelVariantTests {
    static var variants: [Kernels] { Kernels.supported }

    @Test("MMS_KERNELS lowers the active variant to the level it names, never raises it")
    func forcedVariant() {
        let best = Kernels.bestSupportedLevel
        let requested = ProcessInfo.processInfo.environment["MMS_KERNELS"]
        // A name of the other architecture's levels, or no level at all, leaves the choice alone.
        let named = requested.flatMap { name in KernelLevel.architectureLevels.first { $0.description == name } }
        let expected = named.map { min($0, best) } ?? best
        #expect(Kernels.active.level == expected, "MMS_KERNELS=\(requested ?? "(unset)"), best \(best)")
        #expect(Kernels(level: Kernels.active.level) != nil)
    }

    // MARK: int8

    /// Σ a·b in Int64: the exact value the kernels must reproduce.
    static func exactDot(_ a: UnsafePointer<Int8>, _ b: UnsafePointer<Int8>, _ n: Int) -> Int64 {
        var total: Int64 = 0
        for i in 0..<n { total += Int64(a[i]) * Int64(b[i]) }
        return total
    }

    @Test(
        "int8 dot is exact with −128 anywhere in either operand, for every tail length",
        arguments: [1, 2, 31, 32, 33, 63, 64, 65, 95, 127, 128, 129, 200, 511, 513, 4097])
    func int8Extremes(length n: Int) {
        var rng = SeededGenerator(seed: UInt64(n) &* 977)
        // Each case: (a, b). Random codes with −128 sprinkled in one, the
        // other or both, −128 only at the last element (the tail), and codes
        // drawn from the extremes alone.
        let random = { (rng: inout SeededGenerator) in (0..<n).map { _ in Int8.random(in: .min ... .max, using: &rng) } }
        let extremes = { (rng: inout SeededGenerator) in (0..<n).map { _ in [Int8.min, -127, 127, 0][Int.random(in: 0..<4, using: &rng)] } }
        var cases: [([Int8], [Int8])] = []
        let plain = (random(&rng).map { max($0, -127) }, random(&rng).map { max($0, -127) })
        cases.append(plain)
        var minInA = plain, minInB = plain, minInBoth = plain, minAtTail = plain
        for i in stride(from: 0, to: n, by: 7) {
            minInA.0[i] = .min
            minInB.1[i] = .min
            minInBoth.0[i] = .min
            minInBoth.1[i] = .min
        }
        minAtTail.0[n - 1] = .min
        minAtTail.1[n - 1] = .min
        cases += [minInA, minInB, minInBoth, minAtTail, (extremes(&rng), extremes(&rng)), (random(&rng), random(&rng))]
        for kernels in Self.variants {
            for (index, (a, b)) in cases.enumerated() {
                let ma = MisalignedBuffer(a, shift: 1), mb = MisalignedBuffer(b, shift: 3)
                let expected = Self.exactDot(ma.pointer, mb.pointer, n)
                let label = "\(kernels.level) n=\(n) case \(index)"
                #expect(Int64(kernels.dot(ma.pointer, mb.pointer, count: n)) == expected, "\(label)")
                #expect(Int64(kernels.dot(mb.pointer, ma.pointer, count: n)) == expected, "\(label), operands swapped")
            }
        }
    }

    @Test("int8 dot at the documented bound (n = 2^17 − 1) is exact for every sign pattern")
    func int8AtTheBound() {
        let n = 131_071
        var rng = SeededGenerator(seed: 17)
        let patterns: [(String, [Int8], [Int8])] = [
            ("−128·−128", .init(repeating: .min, count: n), .init(repeating: .min, count: n)),
            ("−128·127", .init(repeating: .min, count: n), .init(repeating: 127, count: n)),
            ("127·−128", .init(repeating: 127, count: n), .init(repeating: .min, count: n)),
            ("127·127", .init(repeating: 127, count: n), .init(repeating: 127, count: n)),
            ("alternating", (0..<n).map { $0 % 2 == 0 ? .min : 127 }, (0..<n).map { $0 % 3 == 0 ? 127 : .min }),
            ("random", (0..<n).map { _ in Int8.random(in: .min ... .max, using: &rng) }, (0..<n).map { _ in Int8.random(in: .min ... .max, using: &rng) }),
        ]
        for kernels in Self.variants {
            for (name, a, b) in patterns {
                let ma = MisalignedBuffer(a, shift: 0), mb = MisalignedBuffer(b, shift: 1)
                let expected = Self.exactDot(ma.pointer, mb.pointer, n)
                #expect(Int64(kernels.dot(ma.pointer, mb.pointer, count: n)) == expected, "\(kernels.level) \(name)")
                var out: [Int32] = [0]
                out.withUnsafeMutableBufferPointer {
                    kernels.dot(ma.pointer, rows: mb.pointer, stride: n, rowCount: 1, count: n, into: $0.baseAddress!)
                }
                #expect(Int64(out[0]) == expected, "\(kernels.level) \(name), one-to-many")
            }
        }
    }

    @Test("int8 one-to-many: every row exact, whether the query or the rows hold −128", arguments: [5, 32, 77, 384])
    func int8Many(length n: Int) {
        var rng = SeededGenerator(seed: UInt64(n) &+ 404)
        let rowCount = 6, stride = n + 3
        var rows = (0..<rowCount * stride).map { _ in Int8.random(in: -127...127, using: &rng) }
        for r in 0..<rowCount where r % 2 == 1 { rows[r * stride + (r * 5) % n] = .min }
        let clean = (0..<n).map { _ in Int8.random(in: -127...127, using: &rng) }
        var withMin = clean
        withMin[n / 2] = .min
        for kernels in Self.variants {
            for query in [clean, withMin] {
                let mq = MisalignedBuffer(query, shift: 2), mr = MisalignedBuffer(rows, shift: 1)
                var out = [Int32](repeating: 0, count: rowCount)
                out.withUnsafeMutableBufferPointer {
                    kernels.dot(mq.pointer, rows: mr.pointer, stride: stride, rowCount: rowCount, count: n, into: $0.baseAddress!)
                }
                for r in 0..<rowCount {
                    let expected = Self.exactDot(mq.pointer, mr.pointer + r * stride, n)
                    #expect(Int64(out[r]) == expected, "\(kernels.level) n=\(n) row \(r) query has −128: \(query == withMin)")
                }
            }
        }
    }

    // MARK: one-to-many f32 and f16

    @Test("one-to-many f32 and f16 scans match a double-precision reference", arguments: [1, 7, 8, 33, 384, 515])
    func scansAgainstReference(length n: Int) {
        var rng = SeededGenerator(seed: UInt64(n) &+ 2024)
        let rowCount = 7, stride = n + 9
        let q = rng.floats(n)
        var rows = rng.floats(rowCount * stride)
        for i in 0..<n { rows[3 * stride + i] = 0 }  // a zero row: cosine 0
        let halves = rows.map { Half($0) }
        for kernels in Self.variants {
            let mq = MisalignedBuffer(q, shift: 3), mr = MisalignedBuffer(rows, shift: 1), mh = MisalignedBuffer(halves, shift: 5)
            var dot = [Float](repeating: .nan, count: rowCount), l2 = dot, cosine = dot, dotHalf = dot
            dot.withUnsafeMutableBufferPointer {
                kernels.dot(mq.pointer, rows: mr.pointer, stride: stride, rowCount: rowCount, count: n, into: $0.baseAddress!)
            }
            l2.withUnsafeMutableBufferPointer {
                kernels.squaredL2(mq.pointer, rows: mr.pointer, stride: stride, rowCount: rowCount, count: n, into: $0.baseAddress!)
            }
            cosine.withUnsafeMutableBufferPointer {
                kernels.cosine(mq.pointer, rows: mr.pointer, stride: stride, rowCount: rowCount, count: n, into: $0.baseAddress!)
            }
            dotHalf.withUnsafeMutableBufferPointer {
                kernels.dot(mq.pointer, rows: mh.pointer, stride: stride, rowCount: rowCount, count: n, into: $0.baseAddress!)
            }
            for r in 0..<rowCount {
                var d = 0.0, dm = 0.0, e = 0.0, qq = 0.0, rr = 0.0, dh = 0.0, dhm = 0.0
                for i in 0..<n {
                    let x = Double(q[i]), y = Double(rows[r * stride + i]), h = Double(halves[r * stride + i].float)
                    d += x * y
                    dm += abs(x * y)
                    e += (x - y) * (x - y)
                    qq += x * x
                    rr += y * y
                    dh += x * h
                    dhm += abs(x * h)
                }
                let label = "\(kernels.level) n=\(n) row \(r)"
                #expect(Tolerance.isClose(Double(dot[r]), d, within: Tolerance.reduction(terms: n, sumOfMagnitudes: dm)), "dot \(label)")
                #expect(Tolerance.isClose(Double(l2[r]), e, within: Tolerance.reduction(terms: n, sumOfMagnitudes: 2 * e)), "l2 \(label)")
                let c = qq > 0 && rr > 0 ? d / (qq.squareRoot() * rr.squareRoot()) : 0
                // Three reductions, two square roots and a division: 1e-5 is ~100 ulps at 1.0.
                #expect(abs(Double(cosine[r]) - c) <= 1e-5, "cosine \(label): \(cosine[r]) vs \(c)")
                #expect(Tolerance.isClose(Double(dotHalf[r]), dh, within: Tolerance.reduction(terms: n, sumOfMagnitudes: dhm)), "f16 \(label)")
            }
            #expect(cosine[3] == 0, "\(kernels.level): a zero row has cosine 0")
        }
    }

    // MARK: conversions

    @Test("conversions and (de)quantisation of every tail length match the scalar definitions and stop at the end")
    func conversionTails() {
        var rng = SeededGenerator(seed: 31)
        for n in 0...70 {
            var x = rng.floats(n, in: -70_000...70_000)
            let specials: [Float] = [.nan, .infinity, -.infinity, 65_520, -0.0, 1e-8, 0.5, 2.5]
            for (i, s) in specials.enumerated() where i < n { x[(i * 5) % n] = s }
            let halfBits = (0..<n).map { _ in UInt16.random(in: 0 ... .max, using: &rng) }
            let codes = (0..<n).map { _ in Int8.random(in: .min ... .max, using: &rng) }
            for kernels in Self.variants {
                let label = "\(kernels.level) n=\(n)"
                let mx = MisalignedBuffer(x, shift: 1)
                var halves = [Half](repeating: Half(bitPattern: 0xABCD), count: n + 9)
                halves.withUnsafeMutableBufferPointer { kernels.convert(mx.pointer, to: $0.baseAddress!, count: n) }
                #expect(halves.prefix(n).map(\.bitPattern) == x.map { Half($0).bitPattern }, "f32→f16 \(label)")
                #expect(halves.suffix(9).allSatisfy { $0.bitPattern == 0xABCD }, "f32→f16 wrote past the end, \(label)")

                let mh = MisalignedBuffer(halfBits.map { Half(bitPattern: $0) }, shift: 3)
                var floats = [Float](repeating: 7, count: n + 9)
                floats.withUnsafeMutableBufferPointer { kernels.convert(mh.pointer, to: $0.baseAddress!, count: n) }
                let expectedFloats = halfBits.map { Half(bitPattern: $0).float }
                #expect(floats.prefix(n).map(\.bitPattern) == expectedFloats.map(\.bitPattern), "f16→f32 \(label)")
                #expect(floats.suffix(9).allSatisfy { $0 == 7 }, "f16→f32 wrote past the end, \(label)")

                var quantized = [Int8](repeating: 99, count: n + 9)
                quantized.withUnsafeMutableBufferPointer {
                    kernels.quantize(mx.pointer, count: n, inverseScale: 0.004, into: $0.baseAddress!)
                }
                let expectedCodes: [Int8] = x.map { v in
                    let scaled = v * 0.004
                    return scaled.isNaN ? 0 : Int8(max(-127, min(127, scaled)).rounded(.toNearestOrEven))
                }
                #expect(Array(quantized.prefix(n)) == expectedCodes, "quantize \(label)")
                #expect(quantized.suffix(9).allSatisfy { $0 == 99 }, "quantize wrote past the end, \(label)")

                let mc = MisalignedBuffer(codes, shift: 2)
                var dequantized = [Float](repeating: 7, count: n + 9)
                dequantized.withUnsafeMutableBufferPointer {
                    kernels.dequantize(mc.pointer, count: n, scale: 0.5, into: $0.baseAddress!)
                }
                #expect(Array(dequantized.prefix(n)) == codes.map { Float($0) * 0.5 }, "dequantize \(label)")
                #expect(dequantized.suffix(9).allSatisfy { $0 == 7 }, "dequantize wrote past the end, \(label)")
            }
        }
    }

    // MARK: bounds

    @Test("no kernel reads past the end of its inputs: each input ends at an unmapped page")
    func noReadPastTheEnd() throws {
        let pageA = try GuardedPage(), pageB = try GuardedPage(), pageH = try GuardedPage()
        let pageIA = try GuardedPage(), pageIB = try GuardedPage()
        var rng = SeededGenerator(seed: 5)
        for n in 0...100 {
            let a = rng.floats(n), b = rng.floats(n), h = rng.floats(n).map { Half($0) }
            let ia = (0..<n).map { _ in Int8.random(in: .min ... .max, using: &rng) }
            let ib = (0..<n).map { _ in Int8.random(in: .min ... .max, using: &rng) }
            // Each input's last element is the last byte before an unmapped page;
            // the same data in ordinary buffers gives the results to compare with.
            let ga = pageA.tail(a), gb = pageB.tail(b), gh = pageH.tail(h), gia = pageIA.tail(ia), gib = pageIB.tail(ib)
            let ma = MisalignedBuffer(a, shift: 0), mb = MisalignedBuffer(b, shift: 0), mh = MisalignedBuffer(h, shift: 0)
            let mia = MisalignedBuffer(ia, shift: 0), mib = MisalignedBuffer(ib, shift: 0)
            for kernels in Self.variants {
                let label = "\(kernels.level) n=\(n)"
                func same(_ guarded: Float, _ plain: Float, _ what: String) {
                    #expect(guarded.bitPattern == plain.bitPattern, "\(what) \(label)")
                }
                same(kernels.dot(ga, gb, count: n), kernels.dot(ma.pointer, mb.pointer, count: n), "dot")
                same(kernels.squaredL2(ga, gb, count: n), kernels.squaredL2(ma.pointer, mb.pointer, count: n), "l2")
                same(kernels.cosine(ga, gb, count: n), kernels.cosine(ma.pointer, mb.pointer, count: n), "cosine")
                same(kernels.sum(ga, count: n), kernels.sum(ma.pointer, count: n), "sum")
                same(kernels.sumOfSquares(ga, count: n), kernels.sumOfSquares(ma.pointer, count: n), "sum of squares")
                same(kernels.maxMagnitude(ga, count: n), kernels.maxMagnitude(ma.pointer, count: n), "max magnitude")
                same(kernels.dot(ga, gh, count: n), kernels.dot(ma.pointer, mh.pointer, count: n), "f16 dot")
                same(kernels.squaredL2(ga, gh, count: n), kernels.squaredL2(ma.pointer, mh.pointer, count: n), "f16 l2")
                #expect(kernels.dot(gia, gib, count: n) == kernels.dot(mia.pointer, mib.pointer, count: n), "int8 \(label)")
                var guarded = [Float](repeating: 0, count: 4), plain = guarded
                guarded.withUnsafeMutableBufferPointer { o in
                    kernels.dot(ga, rows: gb, stride: n, rowCount: 1, count: n, into: o.baseAddress!)
                    kernels.squaredL2(ga, rows: gb, stride: n, rowCount: 1, count: n, into: o.baseAddress! + 1)
                    kernels.cosine(ga, rows: gb, stride: n, rowCount: 1, count: n, into: o.baseAddress! + 2)
                    kernels.dot(ga, rows: gh, stride: n, rowCount: 1, count: n, into: o.baseAddress! + 3)
                }
                plain.withUnsafeMutableBufferPointer { o in
                    kernels.dot(ma.pointer, rows: mb.pointer, stride: n, rowCount: 1, count: n, into: o.baseAddress!)
                    kernels.squaredL2(ma.pointer, rows: mb.pointer, stride: n, rowCount: 1, count: n, into: o.baseAddress! + 1)
                    kernels.cosine(ma.pointer, rows: mb.pointer, stride: n, rowCount: 1, count: n, into: o.baseAddress! + 2)
                    kernels.dot(ma.pointer, rows: mh.pointer, stride: n, rowCount: 1, count: n, into: o.baseAddress! + 3)
                }
                #expect(guarded.map(\.bitPattern) == plain.map(\.bitPattern), "one-to-many \(label)")
                var guardedI: [Int32] = [0], plainI: [Int32] = [1]
                guardedI.withUnsafeMutableBufferPointer { kernels.dot(gia, rows: gib, stride: n, rowCount: 1, count: n, into: $0.baseAddress!) }
                plainI.withUnsafeMutableBufferPointer { kernels.dot(mia.pointer, rows: mib.pointer, stride: n, rowCount: 1, count: n, into: $0.baseAddress!) }
                #expect(guardedI == plainI, "int8 one-to-many \(label)")
            }
        }
    }
}

/// Two pages mapped, the second made inaccessible: data copied to the very
/// end of the first page has nothing readable after it, so a kernel that
/// reads one byte too far stops the process with SIGSEGV.
final class GuardedPage {
    private let base: UnsafeMutableRawPointer
    private let pageSize: Int

    struct MappingFailed: Error {}

    init() throws {
        pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard let mapped = mmap(nil, 2 * pageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            mapped != MAP_FAILED
        else { throw MappingFailed() }
        base = mapped
        guard mprotect(base + pageSize, pageSize, PROT_NONE) == 0 else { throw MappingFailed() }
    }

    deinit { munmap(base, 2 * pageSize) }

    /// `values` copied so that the last one ends at the inaccessible page.
    func tail<T: BitwiseCopyable>(_ values: [T]) -> UnsafePointer<T> {
        let bytes = values.count * MemoryLayout<T>.stride
        precondition(bytes <= pageSize, "a guarded buffer holds one page")
        let start = base + pageSize - bytes
        values.withUnsafeBytes { start.copyMemory(from: $0.baseAddress ?? UnsafeRawPointer(start), byteCount: bytes) }
        return UnsafePointer(start.assumingMemoryBound(to: T.self))
    }
}
