import CBenchSupport
import Foundation
import Tensor

/// One measured figure beside its anchor.
struct BenchResult: Codable {
    var name: String
    var value: Double
    var unit: String
    var anchor: String?
    var anchorValue: Double?
    var ratio: Double?
    var note: String?

    enum CodingKeys: String, CodingKey {
        case name, value, unit, anchor
        case anchorValue = "anchor_value"
        case ratio, note
    }

    /// A result whose ratio is ours ÷ anchor.
    init(_ name: String, _ value: Double, _ unit: String, anchor: String? = nil, anchorValue: Double? = nil,
         note: String? = nil) {
        self.name = name
        self.value = value
        self.unit = unit
        self.anchor = anchor
        self.anchorValue = anchorValue
        self.ratio = anchorValue.map { $0 == 0 ? .nan : value / $0 }
        self.note = note
    }
}

/// What the reader needs to know about the machine the figures came from.
struct MachineInfo: Codable {
    var cpu: String
    var openblasCore: String
    var threads: Int
    var kernels: String
    var date: String

    enum CodingKeys: String, CodingKey {
        case cpu
        case openblasCore = "openblas_core"
        case threads, kernels, date
    }

    static func current(kernels: String) -> MachineInfo {
        MachineInfo(
            cpu: cpuModelName(),
            openblasCore: openBLASCoreName(),
            threads: BLAS.threadCount,
            kernels: kernels,
            date: ISO8601DateFormatter().string(from: Date()))
    }

    /// The model name with family and model numbers, which tell CPU
    /// generations apart where a virtual machine reports only "AMD EPYC".
    static func cpuModelName() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { break }  // the first processor only
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            fields[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        guard let name = fields["model name"] else { return "unknown" }
        guard let family = fields["cpu family"], let model = fields["model"] else { return name }
        return "\(name) (family \(family) model \(model))"
    }

    static func openBLASCoreName() -> String { BLAS.coreName }
}

/// A suite's whole report, printed as a table and optionally written as JSON.
struct BenchReport: Encodable {
    var suite: String
    var machine: MachineInfo
    var results: [BenchResult]
    var summary: [String: Double]?

    func printTable() {
        print("suite \(suite) — \(machine.cpu); OpenBLAS core \(machine.openblasCore); kernels \(machine.kernels); \(machine.threads) threads")
        let header = ["name", "value", "unit", "anchor", "anchor value", "ratio"]
        var rows = [header]
        for r in results {
            rows.append([
                r.name, format(r.value), r.unit, r.anchor ?? "", r.anchorValue.map(format) ?? "",
                r.ratio.map { String(format: "%.3f", $0) } ?? "",
            ])
        }
        let widths = (0..<header.count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        for (i, row) in rows.enumerated() {
            print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  "))
            if i == 0 { print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        if let summary, !summary.isEmpty {
            print("summary:")
            for key in summary.keys.sorted() { print("  \(key) = \(format(summary[key]!))") }
        }
    }

    func write(json path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // A ratio over a zero anchor (e.g. 0 errors ÷ 0) is NaN, which JSON cannot hold as a number.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try encoder.encode(self).write(to: URL(fileURLWithPath: path))
        print("wrote \(path)")
    }

    private func format(_ v: Double) -> String {
        if v.isNaN { return "nan" }
        if abs(v) >= 100 { return String(format: "%.1f", v) }
        if abs(v) >= 1 { return String(format: "%.3f", v) }
        return String(format: "%.4f", v)
    }
}

/// Timing helpers: monotonic clock, medians of repeated measurements.
enum Clock {
    static func now() -> UInt64 { bench_now_ns() }

    /// Runs `body` (which performs `operations` operations) `samples` times and
    /// returns the median nanoseconds per operation.
    static func medianNanoseconds(samples: Int = 15, operations: Int, _ body: () throws -> Void) rethrows -> Double {
        try body()  // warm up
        var times: [Double] = []
        times.reserveCapacity(samples)
        for _ in 0..<samples {
            let start = now()
            try body()
            times.append(Double(now() - start) / Double(operations))
        }
        return median(times)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }
}

/// Keeps a value alive so the optimiser cannot delete the work that made it.
@inline(never)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
