import SearchCore
import Testing
import _TestSupport

@testable import Tensor

@Suite("Tensor")
struct TensorTests {
    @Test("a shape that does not match the scalars is rejected with a message")
    func shapeMismatch() {
        #expect {
            _ = try Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3])
        } throws: { error in
            guard let e = error as? SearchError else { return false }
            return e.code == .dimensionMismatch && e.message.contains("[2, 3]") && e.message.contains("6")
                && e.message.contains("3 were given")
        }
        #expect(throws: SearchError.self) { _ = try Tensor<Float>(shape: [-1, 3], scalars: []) }
    }

    @Test("copies are independent: writing one does not change the other")
    func copyOnWrite() throws {
        let a = try Tensor<Float>(shape: [2, 2], scalars: [1, 2, 3, 4])
        var b = a
        b[0, 1] = 9
        #expect(a.scalars == [1, 2, 3, 4])
        #expect(b.scalars == [1, 9, 3, 4])
        var c = a
        c.withUnsafeMutableBufferPointer { $0[3] = -1 }
        #expect(a[1, 1] == 4)
        #expect(c[1, 1] == -1)
    }

    @Test("row views share storage, reshape keeps the scalars, and writes to a view do not leak")
    func views() throws {
        let a = try Tensor<Float>(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])
        var middle = a.rows(1..<3)
        #expect(middle.shape == [2, 2])
        #expect(middle.scalars == [3, 4, 5, 6])
        middle[0, 0] = 30
        #expect(a.scalars == [1, 2, 3, 4, 5, 6])
        #expect(middle.scalars == [30, 4, 5, 6])
        let flat = try a.reshaped([6])
        #expect(flat.shape == [6])
        #expect(flat.scalars == a.scalars)
        #expect(throws: SearchError.self) { _ = try a.reshaped([4, 2]) }
    }

    @Test("fresh storage is 64-byte aligned")
    func alignment() {
        for n in [1, 3, 17, 1000] {
            let t = Tensor<Float>(shape: [n])
            let address = t.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
            #expect(address % 64 == 0)
        }
    }

    @Test("Half and Int8 tensors convert")
    func conversions() throws {
        let x = try Tensor<Float>(shape: [2, 2], scalars: [1, -2.5, 65504, 1e-8])
        let h = x.toHalf()
        #expect(h.scalars.map(\.bitPattern) == [0x3c00, 0xc100, 0x7bff, 0x0000])
        #expect(h.toFloat().scalars == [1, -2.5, 65504, 0])
    }
}

@Suite("BLAS")
struct BLASTests {
    static func reference(
        _ a: [Float], _ aShape: (Int, Int), transA: Bool, _ b: [Float], _ bShape: (Int, Int), transB: Bool
    ) -> [Double] {
        let (m, k) = transA ? (aShape.1, aShape.0) : aShape
        let n = transB ? bShape.0 : bShape.1
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * aShape.1 + i] : a[i * aShape.1 + p]
                    let bv = transB ? b[j * bShape.1 + p] : b[p * bShape.1 + j]
                    s += Double(av) * Double(bv)
                }
                c[i * n + j] = s
            }
        }
        return c
    }

    @Test("GEMM matches a double-precision reference for every transpose", arguments: [(false, false), (true, false), (false, true), (true, true)])
    func gemm(transposes: (Bool, Bool)) throws {
        let (ta, tb) = transposes
        let m = 7, n = 5, k = 13
        var rng = SeededGenerator(seed: 3)
        let aShape = ta ? (k, m) : (m, k), bShape = tb ? (n, k) : (k, n)
        let a = try Tensor<Float>(shape: [aShape.0, aShape.1], scalars: rng.floats(m * k))
        let b = try Tensor<Float>(shape: [bShape.0, bShape.1], scalars: rng.floats(k * n))
        var c = try Tensor<Float>(shape: [m, n], scalars: rng.floats(m * n))
        let c0 = c.scalars
        try Tensor.gemm(a, transposeA: ta, b, transposeB: tb, alpha: 2, beta: 0.5, into: &c)
        let ref = Self.reference(a.scalars, aShape, transA: ta, b.scalars, bShape, transB: tb)
        for i in 0..<(m * n) {
            let expected = 2 * ref[i] + 0.5 * Double(c0[i])
            // 13 products of values in [-1, 1]: float rounding stays below 1e-5.
            #expect(abs(Double(c.scalars[i]) - expected) < 1e-5)
        }
    }

    @Test("mismatched shapes are rejected naming both")
    func mismatch() throws {
        let a = Tensor<Float>(shape: [2, 3]), b = Tensor<Float>(shape: [4, 5])
        #expect {
            _ = try Tensor.matmul(a, b)
        } throws: { error in
            (error as? SearchError)?.code == .dimensionMismatch && "\(error)".contains("2×3") && "\(error)".contains("4×5")
        }
        var wrongC = Tensor<Float>(shape: [2, 2])
        #expect(throws: SearchError.self) { try Tensor.gemm(a, Tensor<Float>(shape: [3, 5]), into: &wrongC) }
        #expect(throws: SearchError.self) { _ = try Tensor.matmul(Tensor<Float>(shape: [2, 3, 1]), b) }
    }

    @Test("k = 0 scales C by beta")
    func emptyInner() throws {
        var c = try Tensor<Float>(shape: [1, 2], scalars: [4, 6])
        try Tensor.gemm(Tensor<Float>(shape: [1, 0]), Tensor<Float>(shape: [0, 2]), beta: 0.5, into: &c)
        #expect(c.scalars == [2, 3])
    }

    @Test("batched GEMM equals one GEMM per batch entry, with a shared or per-entry B")
    func batched() throws {
        var rng = SeededGenerator(seed: 8)
        let a = try Tensor<Float>(shape: [3, 4, 6], scalars: rng.floats(72))
        let shared = try Tensor<Float>(shape: [5, 6], scalars: rng.floats(30))
        var c = Tensor<Float>(shape: [3, 4, 5])
        try Tensor.batchedGemm(a, shared, transposeB: true, into: &c)
        for i in 0..<3 {
            let ai = try a.rows(i..<(i + 1)).reshaped([4, 6])
            let expected = try Tensor.matmul(ai, shared, transposeB: true)
            #expect(try c.rows(i..<(i + 1)).reshaped([4, 5]) == expected)
        }
        let perEntry = try Tensor<Float>(shape: [3, 6, 2], scalars: rng.floats(36))
        var d = Tensor<Float>(shape: [3, 4, 2])
        try Tensor.batchedGemm(a, perEntry, into: &d)
        for i in 0..<3 {
            let expected = try Tensor.matmul(a.rows(i..<(i + 1)).reshaped([4, 6]), perEntry.rows(i..<(i + 1)).reshaped([6, 2]))
            #expect(try d.rows(i..<(i + 1)).reshaped([4, 2]) == expected)
        }
    }

    @Test("thread count and core name are reported")
    func controls() {
        let before = BLAS.threadCount
        BLAS.threadCount = 1
        #expect(BLAS.threadCount == 1)
        BLAS.threadCount = before
        #expect(!BLAS.coreName.isEmpty && BLAS.coreName != "unknown")
    }
}
