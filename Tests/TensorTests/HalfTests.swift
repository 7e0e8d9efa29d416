import Testing
import _TestSupport

@testable import Tensor

/// Exhaustive and edge-case checks of binary16 conversion.
@Suite("Half precision")
struct HalfTests {
    /// The exact value of a half bit pattern, from the IEEE 754 definition.
    static func definitionValue(_ bits: UInt16) -> Double {
        let sign: Double = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int((bits >> 10) & 0x1f)
        let mantissa = Double(bits & 0x3ff)
        if exponent == 0 { return sign * mantissa * 0x1p-24 }
        if exponent == 31 { return mantissa == 0 ? sign * .infinity : .nan }
        return sign * (1 + mantissa / 1024) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
    }

    @Test("every one of the 65,536 halves widens exactly and round-trips, in every variant")
    func exhaustive() {
        let all = (0...UInt16.max).map { Half(bitPattern: $0) }
        for kernels in Kernels.supported {
            var wide = [Float](repeating: 0, count: all.count)
            all.withUnsafeBufferPointer { src in
                wide.withUnsafeMutableBufferPointer { kernels.convert(src.baseAddress!, to: $0.baseAddress!, count: all.count) }
            }
            var back = [Half](repeating: .zero, count: all.count)
            wide.withUnsafeBufferPointer { src in
                back.withUnsafeMutableBufferPointer { kernels.convert(src.baseAddress!, to: $0.baseAddress!, count: all.count) }
            }
            var failures = 0
            for i in 0..<all.count {
                let bits = UInt16(i)
                let expected = Self.definitionValue(bits)
                let scalar = all[i].float
                if expected.isNaN {
                    // NaN stays NaN, keeps its sign, comes back quiet with its payload's top bits.
                    let ok = wide[i].isNaN && scalar.isNaN && (wide[i].sign == .minus) == (bits & 0x8000 != 0)
                        && back[i].bitPattern == bits | 0x0200 && wide[i].bitPattern == scalar.bitPattern
                    if !ok { failures += 1 }
                } else {
                    let ok = Double(wide[i]) == expected && Double(scalar) == expected
                        && wide[i].bitPattern == scalar.bitPattern && back[i].bitPattern == bits
                        && Half(wide[i]).bitPattern == bits
                    if !ok { failures += 1 }
                }
            }
            #expect(failures == 0, "\(kernels.level): \(failures) half values convert wrongly")
        }
    }

    @Test("rounding to nearest even at the edges")
    func edges() {
        let cases: [(Float, UInt16)] = [
            (0, 0x0000), (-0.0, 0x8000), (1, 0x3c00), (-2, 0xc000),
            (65504, 0x7bff),  // largest finite half
            (65519.996, 0x7bff),  // just below the rounding boundary
            (65520, 0x7c00),  // the tie goes to even: infinity
            (1e10, 0x7c00), (-1e10, 0xfc00), (.infinity, 0x7c00), (-.infinity, 0xfc00),
            (0x1p-24, 0x0001),  // smallest subnormal
            (0x1p-25, 0x0000),  // half way to it: ties to even zero
            (0x1.000002p-25, 0x0001),  // just above half way
            (0x1.8p-24, 0x0002),  // 1.5 × smallest: tie to even (2)
            (0x1.4p-23, 0x0002),  // 2.5 × smallest: tie to even (2)
            (0x1p-14, 0x0400),  // smallest normal
            (0x1.ff8p-15, 0x03ff),  // largest subnormal
            (0x1.ffcp-15, 0x0400),  // half way from it to the smallest normal: ties to even (0x400)
            (1 + 0x1p-11, 0x3c00),  // tie between 1 and 1+2⁻¹⁰: even is 1
            (1 + 0x1.8p-10, 0x3c02),  // tie between 1+2⁻¹⁰ and 1+2⁻⁹: even is the upper
        ]
        for kernels in Kernels.supported {
            let inputs = cases.map(\.0)
            var out = [Half](repeating: .zero, count: inputs.count)
            inputs.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { kernels.convert(src.baseAddress!, to: $0.baseAddress!, count: inputs.count) }
            }
            for (i, (value, bits)) in cases.enumerated() {
                #expect(out[i].bitPattern == bits, "\(kernels.level): \(value) → \(String(out[i].bitPattern, radix: 16)), expected \(String(bits, radix: 16))")
                #expect(Half(value).bitPattern == bits, "scalar: \(value)")
            }
        }
    }

    @Test("random floats round to the nearest half, ties to even, same in every variant")
    func randomRounding() {
        var rng = SeededGenerator(seed: 99)
        // Cover every exponent a half can represent and beyond.
        let values: [Float] = (0..<20_000).map { _ in
            Float(sign: Bool.random(using: &rng) ? .minus : .plus, exponent: Int.random(in: -27...17, using: &rng),
                  significand: Float.random(in: 1..<2, using: &rng))
        }
        var perVariant: [[UInt16]] = []
        for kernels in Kernels.supported {
            var out = [Half](repeating: .zero, count: values.count)
            values.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { kernels.convert(src.baseAddress!, to: $0.baseAddress!, count: values.count) }
            }
            perVariant.append(out.map(\.bitPattern))
        }
        for other in perVariant.dropFirst() { #expect(other == perVariant[0]) }
        var wrong = 0
        for (i, v) in values.enumerated() {
            let bits = perVariant[0][i]
            let chosen = Self.definitionValue(bits)
            // No other half is strictly nearer, and on a tie the even one was chosen.
            let up = Self.definitionValue(bits &+ 1), down = Self.definitionValue(bits &- 1)
            let d = abs(chosen - Double(v))
            if abs(Double(v)) >= 65520 && !chosen.isInfinite { wrong += 1 }
            if chosen.isInfinite {
                if abs(Double(v)) < 65520 { wrong += 1 }
                continue
            }
            if (up.isFinite && abs(up - Double(v)) < d) || (down.isFinite && bits & 0x7fff != 0 && abs(down - Double(v)) < d) {
                wrong += 1
            }
            let tie = (up.isFinite && abs(up - Double(v)) == d) || (down.isFinite && abs(down - Double(v)) == d && bits & 0x7fff != 0)
            if tie && bits & 1 != 0 { wrong += 1 }
        }
        #expect(wrong == 0)
    }

    @Test("NaN converts to NaN, sign kept")
    func nan() {
        for kernels in Kernels.supported {
            let inputs: [Float] = [.nan, -.nan, Float(bitPattern: 0x7fa0_0001)]
            var out = [Half](repeating: .zero, count: 3)
            inputs.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { kernels.convert(s.baseAddress!, to: $0.baseAddress!, count: 3) } }
            for (i, h) in out.enumerated() {
                #expect(h.float.isNaN)
                #expect((h.bitPattern & 0x8000 != 0) == (inputs[i].sign == .minus))
                #expect(h.bitPattern == Half(inputs[i]).bitPattern, "\(kernels.level)")
            }
        }
    }
}
