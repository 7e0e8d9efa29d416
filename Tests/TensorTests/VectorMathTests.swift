import Foundation
import SearchCore
import Testing
import _TestSupport

@testable import Tensor

@Suite("Vector math")
struct VectorMathTests {
    @Test("softmax is stable for huge logits and sums to one")
    func softmax() {
        var x: [Float] = [1000, 1001, 1002]
        x.withUnsafeMutableBufferPointer { VectorMath.softmax($0) }
        let e = [exp(-2.0), exp(-1.0), 1.0]
        let total = e.reduce(0, +)
        for i in 0..<3 { #expect(abs(Double(x[i]) - e[i] / total) < 1e-6) }
        #expect(abs(x.reduce(0, +) - 1) < 1e-6)
        var withNaN: [Float] = [1, .nan, 2]
        withNaN.withUnsafeMutableBufferPointer { VectorMath.softmax($0) }
        #expect(withNaN.allSatisfy { $0.isNaN })
        var masked: [Float] = [-.infinity, 0, -.infinity]
        masked.withUnsafeMutableBufferPointer { VectorMath.softmax($0) }
        #expect(masked == [0, 1, 0])
        var empty: [Float] = []
        empty.withUnsafeMutableBufferPointer { VectorMath.softmax($0) }
        #expect(empty.isEmpty)
    }

    @Test("layer norm matches a double-precision reference, with a large common offset")
    func layerNorm() throws {
        var rng = SeededGenerator(seed: 12)
        let n = 384
        let x = rng.floats(n).map { $0 + 1000 }
        let gamma = rng.floats(n), beta = rng.floats(n)
        let mean = x.reduce(0.0) { $0 + Double($1) } / Double(n)
        let variance = x.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(n)
        var t = try Tensor<Float>(shape: [1, n], scalars: x)
        try t.layerNormRows(gamma: Tensor(shape: [n], scalars: gamma), beta: Tensor(shape: [n], scalars: beta), epsilon: 1e-5)
        for i in 0..<n {
            let expected = (Double(x[i]) - mean) / (variance + 1e-5).squareRoot() * Double(gamma[i]) + Double(beta[i])
            // Inputs near 1000 carry ~6e-5 absolute rounding already; normalised by σ≈0.58 that is 1e-4.
            #expect(abs(Double(t.scalars[i]) - expected) < 2e-4)
        }
        #expect(throws: SearchError.self) {
            try t.layerNormRows(gamma: Tensor(shape: [n - 1]), beta: Tensor(shape: [n]))
        }
    }

    @Test("GELU (erf and tanh) and QuickGELU match their definitions")
    func activations() throws {
        let xs: [Float] = [-6, -3, -1, -0.5, 0, 0.25, 1, 2.5, 8]
        var exact = try Tensor<Float>(shape: [xs.count], scalars: xs)
        exact.applyGELU()
        var approx = exact
        approx = try Tensor<Float>(shape: [xs.count], scalars: xs)
        approx.applyGELU(approximation: .tanh)
        var quick = try Tensor<Float>(shape: [xs.count], scalars: xs)
        quick.applyQuickGELU()
        for (i, v) in xs.enumerated() {
            let x = Double(v)
            let e = 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
            let t = 0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
            let q = x / (1 + exp(-1.702 * x))
            // Single-precision transcendental functions: within a few ulps of values ≤ 8.
            #expect(abs(Double(exact.scalars[i]) - e) < 2e-6, "gelu(\(x))")
            #expect(abs(Double(approx.scalars[i]) - t) < 2e-6, "gelu_tanh(\(x))")
            #expect(abs(Double(quick.scalars[i]) - q) < 2e-6, "quick_gelu(\(x))")
        }
    }

    @Test("L2 normalisation gives unit rows and leaves zero rows alone")
    func normalize() throws {
        var t = try Tensor<Float>(shape: [2, 3], scalars: [3, 4, 0, 0, 0, 0])
        t.l2NormalizeRows()
        #expect(t.scalars == [0.6, 0.8, 0, 0, 0, 0])
    }

    @Test("top-k equals sorting, skips NaN, breaks ties by index")
    func topK() {
        var rng = SeededGenerator(seed: 4)
        var scores = rng.floats(1000)
        scores[10] = .nan
        scores[20] = 5
        scores[30] = 5
        let top = scores.withUnsafeBufferPointer { VectorMath.topK($0, k: 10) }
        let expected = scores.enumerated().filter { !$0.element.isNaN }
            .sorted { $0.element > $1.element || ($0.element == $1.element && $0.offset < $1.offset) }
            .prefix(10)
        #expect(top.map(\.index) == expected.map(\.offset))
        #expect(top.first?.index == 20)
        #expect(top.dropFirst().first?.index == 30)
        let smallest = scores.withUnsafeBufferPointer { VectorMath.topK($0, k: 3, largest: false) }
        #expect(smallest.map(\.value) == Array(scores.filter { !$0.isNaN }.sorted().prefix(3)))
        let few = [Float(1), .nan].withUnsafeBufferPointer { VectorMath.topK($0, k: 5) }
        #expect(few.count == 1)
    }

    @Test("the selector can be reset and reused with another k")
    func selectorReuse() {
        var selector = TopKSelector(k: 2)
        for (i, d) in [5, 1, 3, 0.5].enumerated() { selector.consider(Float(d), Int32(i)) }
        #expect(selector.sorted().map(\.payload) == [3, 1])
        #expect(selector.threshold == 1)
        selector.reset(k: 3)
        #expect(selector.count == 0 && selector.threshold == .infinity)
        for (i, d) in [9, 8, 7, 6].enumerated() { selector.consider(Float(d), Int32(i)) }
        #expect(selector.sorted().map(\.payload) == [3, 2, 1])
    }
}

@Suite("INT8 quantization")
struct QuantizationTests {
    @Test("the per-row round trip stays within half a step of each row's scale")
    func rowBound() throws {
        var rng = SeededGenerator(seed: 21)
        let rows = 50, cols = 512
        var values = rng.gaussians(rows * cols)
        for j in 0..<cols { values[7 * cols + j] = 0 }  // an all-zero row
        let x = try Tensor<Float>(shape: [rows, cols], scalars: values)
        let q = try x.quantizedInt8(along: .rows)
        let back = q.dequantized().scalars
        for r in 0..<rows {
            let maxAbs = values[(r * cols)..<((r + 1) * cols)].map(abs).max()!
            #expect(abs(q.scales[r] - maxAbs / 127) <= 1e-7 * maxAbs)
            for j in 0..<cols {
                let err = abs(back[r * cols + j] - values[r * cols + j])
                // Bound: scale/2, plus float rounding of scale·code (≤ 1 ulp of maxAbs).
                #expect(err <= q.scales[r] / 2 + maxAbs.ulp, "row \(r) col \(j)")
            }
        }
        #expect(q.scales[7] == 0)
        #expect(q.codes.scalars[(7 * cols)..<(8 * cols)].allSatisfy { $0 == 0 })
        #expect(q.codes.scalars.allSatisfy { $0 >= -127 })
    }

    @Test("the per-column round trip stays within half a step of each column's scale")
    func columnBound() throws {
        var rng = SeededGenerator(seed: 22)
        let rows = 64, cols = 10
        let values = rng.gaussians(rows * cols)
        let q = try Tensor<Float>(shape: [rows, cols], scalars: values).quantizedInt8(along: .columns)
        #expect(q.scales.count == cols)
        let back = q.dequantized().scalars
        for r in 0..<rows {
            for j in 0..<cols {
                let colMax = (0..<rows).map { abs(values[$0 * cols + j]) }.max()!
                #expect(abs(back[r * cols + j] - values[r * cols + j]) <= q.scales[j] / 2 + colMax.ulp)
            }
        }
    }

    @Test("NaN or Inf is a typed error naming the row")
    func nonFinite() throws {
        let x = try Tensor<Float>(shape: [3, 2], scalars: [1, 2, 3, .infinity, 5, 6])
        #expect {
            _ = try x.quantizedInt8()
        } throws: { error in
            (error as? SearchError)?.code == .invalidVector && "\(error)".contains("row 1")
        }
    }
}
