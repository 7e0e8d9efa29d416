import ArgumentParser
import CBenchSupport
import Foundation
import SearchCore
import Tensor

/// `mms-bench kernels`: the Tensor kernels against OpenBLAS and the machine's limits.
struct KernelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Dot products, distances, scans, GEMM and conversions against cblas and the machine's peak.")

    @Option(help: "Write the report as JSON to this file.")
    var json: String?

    @Option(help: "Timed samples per figure; the median is reported.")
    var samples: Int = 15

    @Flag(help: "Only the in-cache dot products, distances and their ratios (skip scans, GEMM, peak and bandwidth).")
    var vectorsOnly = false

    @Flag(
        help: """
            Time the in-cache figures by the thread's CPU time instead of the wall clock, so that other \
            processes holding the core on a shared machine do not count (cache disturbance still does).
            """)
    var threadCPUTime = false

    func run() throws {
        let kernels = Kernels.active
        var results: [BenchResult] = []
        var rng = BenchRandom(seed: 1)

        // Dot products and distances on data in cache, ns per call. Each group's
        // figures are timed in alternation, sample by sample, so that load from
        // elsewhere on a shared machine hits a figure and its anchor alike.
        var dotNs: [Int: Double] = [:]
        var summary: [String: Double] = [:]
        for n in [384, 768] {
            let pa = aligned(rng.floats(n)), pb = aligned(rng.floats(n))
            defer {
                pa.deallocate()
                pb.deallocate()
            }
            let x = UnsafePointer(pa.baseAddress!), y = UnsafePointer(pb.baseAddress!)
            let ns = interleavedPerCall(samples, [
                { var s: Float = 0; for _ in 0..<callsPerSample { s += kernels.dot(x, y, count: n) }; return s },
                { var s: Float = 0; for _ in 0..<callsPerSample { s += BLAS.sdot(x, y, count: n) }; return s },
            ])
            dotNs[n] = ns[0]
            results.append(BenchResult("dot_f32_\(n)", ns[0], "ns", anchor: "cblas_sdot", anchorValue: ns[1]))
        }
        do {
            let n = 512
            let pa = aligned(rng.floats(n)), pb = aligned(rng.floats(n))
            let halves = aligned(rng.floats(n).map { Half($0) })
            let codesA = aligned((0..<n).map { _ in Int8.random(in: -127...127, using: &rng) })
            let codesB = aligned((0..<n).map { _ in Int8.random(in: -127...127, using: &rng) })
            defer {
                pa.deallocate()
                pb.deallocate()
                halves.deallocate()
                codesA.deallocate()
                codesB.deallocate()
            }
            let x = UnsafePointer(pa.baseAddress!), y = UnsafePointer(pb.baseAddress!)
            let h = UnsafePointer(halves.baseAddress!)
            let ca = UnsafePointer(codesA.baseAddress!), cb = UnsafePointer(codesB.baseAddress!)
            let ns = interleavedPerCall(samples, [
                { var s: Float = 0; for _ in 0..<callsPerSample { s += BLAS.sdot(x, y, count: n) }; return s },
                { var s: Float = 0; for _ in 0..<callsPerSample { s += kernels.dot(x, y, count: n) }; return s },
                { var s: Float = 0; for _ in 0..<callsPerSample { s += kernels.squaredL2(x, y, count: n) }; return s },
                { var s: Float = 0; for _ in 0..<callsPerSample { s += kernels.cosine(x, y, count: n) }; return s },
                { var s: Float = 0; for _ in 0..<callsPerSample { s += kernels.dot(x, h, count: n) }; return s },
                { var s: Int32 = 0; for _ in 0..<callsPerSample { s &+= kernels.dot(ca, cb, count: n) }; return Float(s) },
            ])
            let (sdot, dot, l2, cos, f16, i8) = (ns[0], ns[1], ns[2], ns[3], ns[4], ns[5])
            dotNs[n] = dot
            results.append(BenchResult("dot_f32_512", dot, "ns", anchor: "cblas_sdot", anchorValue: sdot, note: "target ≤ 0.8"))
            results.append(BenchResult("l2_f32_512", l2, "ns", anchor: "cblas_sdot", anchorValue: sdot))
            results.append(
                BenchResult("cos_f32_512", cos, "ns", anchor: "cblas_sdot", anchorValue: sdot, note: "one pass; target ≤ 1.0"))
            results.append(BenchResult("dot_f32f16_512", f16, "ns", anchor: "dot_f32_512", anchorValue: dot, note: "target ≤ 1.2"))
            results.append(BenchResult("dot_i8_512", i8, "ns", anchor: "dot_f32_512", anchorValue: dot, note: "target ≤ 0.5"))
            summary["dot_f32_512_vs_sdot"] = dot / sdot
            summary["l2_f32_512_vs_sdot"] = l2 / sdot
            summary["cos_f32_512_vs_sdot"] = cos / sdot
            summary["dot_f32f16_512_vs_dot_f32"] = f16 / dot
            summary["dot_i8_512_vs_dot_f32"] = i8 / dot
        }
        if vectorsOnly {
            if threadCPUTime { summary["timed_by_thread_cpu_time"] = 1 }
            let report = BenchReport(
                suite: "kernels", machine: .current(kernels: kernels.level.description), results: results, summary: summary)
            report.printTable()
            if let json { try report.write(json: json) }
            return
        }

        // Machine read bandwidth: a 1 GiB buffer summed with wide loads.
        let bandwidth = readBandwidth(bytes: 1 << 30)

        // One query against many rows, GB/s of rows read.
        for rows in [10_000, 100_000] {
            let n = 512
            let table = UnsafeMutableBufferPointer<Float>.allocate(capacity: rows * n)
            defer { table.deallocate() }
            for i in table.indices { table[i] = Float(i % 97) * 0.01 }
            let q = rng.floats(n)
            var out = [Float](repeating: 0, count: rows)
            let ns = q.withUnsafeBufferPointer { pq in
                out.withUnsafeMutableBufferPointer { po in
                    Clock.medianNanoseconds(samples: samples, operations: 1) {
                        kernels.dot(pq.baseAddress!, rows: table.baseAddress!, stride: n, rowCount: rows, count: n, into: po.baseAddress!)
                    }
                }
            }
            let gbps = Double(rows * n * 4) / ns
            let note = rows * n * 4 < 32 << 20 ? "rows (\(rows * n * 4 >> 20) MiB) fit in the last-level cache" : "rows stream from memory"
            results.append(BenchResult("scan_f32_512x\(rows)", gbps, "GB/s", anchor: "read_bandwidth", anchorValue: bandwidth, note: note))
        }

        // GEMM through Tensor against cblas_sgemm called directly.
        let savedThreads = BLAS.threadCount
        for (size, threads) in [(512, 1), (2048, 1), (2048, 2)] {
            BLAS.threadCount = threads
            let (ours, anchor) = try gemmRates(size: size, rng: &rng)
            results.append(BenchResult("sgemm_\(size)_\(threads)t", ours, "GFLOP/s", anchor: "cblas_sgemm", anchorValue: anchor))
        }
        BLAS.threadCount = savedThreads

        // FMA peak on one core, for context.
        var sink: Float = 0
        let iterations: UInt64 = 20_000_000
        var peaks: [Double] = []
        for _ in 0..<5 {
            let start = Clock.now()
            let flops = bench_fma_loop(iterations, &sink)
            peaks.append(flops / Double(Clock.now() - start))
        }
        blackHole(sink)
        let peak = Clock.median(peaks)
        results.append(BenchResult("fma_peak_1t", peak, "GFLOP/s", note: "16 independent FMA chains"))

        // Bulk float → half conversion, GB/s of floats read (64 MiB, out of cache).
        do {
            let n = 16 << 20
            let src = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
            let dst = UnsafeMutableBufferPointer<Half>.allocate(capacity: n)
            defer {
                src.deallocate()
                dst.deallocate()
            }
            for i in src.indices { src[i] = Float(i & 1023) * 0.37 }
            let ns = Clock.medianNanoseconds(samples: samples, operations: 1) {
                kernels.convert(src.baseAddress!, to: dst.baseAddress!, count: n)
            }
            results.append(BenchResult("f32_to_f16_bulk", Double(n * 4) / ns, "GB/s", note: "64 MiB of floats in, 32 MiB of halves out"))
        }
        results.append(BenchResult("read_bandwidth", bandwidth, "GB/s", note: "sum of a 1 GiB buffer, one thread"))

        if threadCPUTime { summary["timed_by_thread_cpu_time"] = 1 }
        let report = BenchReport(
            suite: "kernels", machine: .current(kernels: kernels.level.description), results: results,
            summary: summary)
        report.printTable()
        if let json { try report.write(json: json) }
    }

    /// Calls per timed sample for the ns-scale kernels.
    private var callsPerSample: Int { 20_000 }

    /// Median ns per call of `body`, which makes `callsPerSample` calls and returns a value to keep.
    private func perCall(_ samples: Int, _ body: () -> Float) -> Double {
        var sink: Float = 0
        let ns = Clock.medianNanoseconds(samples: samples, operations: callsPerSample) { sink += body() }
        blackHole(sink)
        return ns
    }

    /// Median ns per call of each body, sampled in turn (body 0, 1, …, then
    /// again) so that every figure sees the same share of outside load.
    private func interleavedPerCall(_ samples: Int, _ bodies: [() -> Float]) -> [Double] {
        var sink: Float = 0
        for body in bodies { sink += body() }  // warm up
        let useCPUTime = threadCPUTime
        let now: () -> UInt64 = { useCPUTime ? bench_thread_cpu_ns() : Clock.now() }
        var times = [[Double]](repeating: [], count: bodies.count)
        for _ in 0..<samples {
            for (index, body) in bodies.enumerated() {
                let start = now()
                sink += body()
                times[index].append(Double(now() - start) / Double(callsPerSample))
            }
        }
        blackHole(sink)
        return times.map { Clock.median($0) }
    }

    private func readBandwidth(bytes: Int) -> Double {
        let n = bytes / 4
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
        defer { buffer.deallocate() }
        for i in stride(from: 0, to: n, by: 1024) { buffer[i] = 1 }  // fault every page in
        buffer.update(repeating: 0.5)
        var sink: Float = 0
        let ns = Clock.medianNanoseconds(samples: 7, operations: 1) { sink += bench_read_sum(buffer.baseAddress!, n) }
        blackHole(sink)
        return Double(bytes) / ns
    }

    private func gemmRates(size n: Int, rng: inout BenchRandom) throws -> (ours: Double, anchor: Double) {
        let a = try Tensor<Float>(shape: [n, n], scalars: rng.floats(n * n))
        let b = try Tensor<Float>(shape: [n, n], scalars: rng.floats(n * n))
        var c = Tensor<Float>(shape: [n, n])
        let flops = 2.0 * Double(n) * Double(n) * Double(n)
        let reps = n <= 512 ? 20 : 1
        let samples = n <= 512 ? 9 : 5
        // Alternate the two so drift on a shared machine hits both alike.
        var ours: [Double] = [], anchor: [Double] = []
        try Tensor.gemm(a, b, into: &c)
        for _ in 0..<samples {
            var start = Clock.now()
            for _ in 0..<reps { try Tensor.gemm(a, b, into: &c) }
            ours.append(flops * Double(reps) / Double(Clock.now() - start))
            start = Clock.now()
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        for _ in 0..<reps {
                            BLAS.sgemm(
                                m: n, n: n, k: n, a: pa.baseAddress!, lda: n, b: pb.baseAddress!, ldb: n,
                                c: pc.baseAddress!, ldc: n)
                        }
                    }
                }
            }
            anchor.append(flops * Double(reps) / Double(Clock.now() - start))
        }
        blackHole(c)
        return (Clock.median(ours), Clock.median(anchor))
    }
}

/// A 64-byte-aligned copy of `values`, as index arenas and tensors hold data:
/// an unaligned 64-byte load that straddles two cache lines costs about twice
/// as much, for our kernels and for BLAS alike.
func aligned<T: BitwiseCopyable>(_ values: [T]) -> UnsafeMutableBufferPointer<T> {
    let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, values.count) * MemoryLayout<T>.stride, alignment: 64)
    let buffer = UnsafeMutableBufferPointer(start: raw.bindMemory(to: T.self, capacity: values.count), count: values.count)
    _ = buffer.initialize(from: values)
    return buffer
}

/// Benchmark data comes from SearchCore's seeded generator.
typealias BenchRandom = SplitMix64

extension SplitMix64 {
    mutating func floats(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -1...1, using: &self) } }
}
