import ANNIndex
import Foundation

/// The `ann` suite's report: `{"suite", "machine", "results", "summary"}`.
struct ANNReport: Encodable {
    var suite: String
    var machine: MachineInfo
    var results: [ANNRow]
    var filtered: [ANNFilteredRow]
    var summary: [String: Double]

    func printTable() {
        print("suite \(suite) — \(machine.cpu); kernels \(machine.kernels)")
        let header = ["lib", "ef", "recall@10", "QPS 1 thr", "QPS 2 thr", "build s", "memory MiB"]
        var table = [header]
        for r in results {
            table.append([
                r.lib, String(r.ef), String(format: "%.4f", r.recall), String(format: "%.0f", r.qps1),
                String(format: "%.0f", r.qps2), String(format: "%.1f", r.buildSeconds), String(format: "%.0f", r.memoryMB),
            ])
        }
        let widths = (0..<header.count).map { c in table.map { $0[c].count }.max() ?? 0 }
        for (i, row) in table.enumerated() {
            print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  "))
            if i == 0 { print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        if !filtered.isEmpty {
            print("filtered search, mms-f32, allow-list:")
            for f in filtered {
                print("  \(String(format: "%5.1f", f.selectivity * 100))% allowed: recall@10 \(String(format: "%.4f", f.recall)), "
                    + "\(String(format: "%.0f", f.qps1)) QPS, exact count in \(String(format: "%.0f", f.exactCountFraction * 100))% of queries")
            }
        }
        print("summary:")
        for key in summary.keys.sorted() { print("  \(key) = \(String(format: "%.3f", summary[key]!))") }
    }

    func write(json path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try encoder.encode(self).write(to: URL(fileURLWithPath: path))
        print("wrote \(path)")
    }
}

/// The issue's summary figures, from the curves.
enum ANNSummary {
    /// QPS at `recall` on one library's curve, interpolated linearly between
    /// the two points around it (points sorted by recall); nil when the curve
    /// never reaches that recall.
    static func qps(at recall: Double, _ points: [ANNRow]) -> Double? {
        let sorted = points.sorted { $0.recall < $1.recall }
        guard let last = sorted.last, last.recall >= recall else { return nil }
        if let first = sorted.first, first.recall >= recall { return sorted.filter { $0.recall >= recall }.map(\.qps1).max() }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.recall <= recall && b.recall >= recall {
            let t = b.recall == a.recall ? 0 : (recall - a.recall) / (b.recall - a.recall)
            return a.qps1 + t * (b.qps1 - a.qps1)
        }
        return nil
    }

    static func compute(rows: [ANNRow], memory: [String: HNSWIndex.MemoryFootprint], allocsPerQuery: Double) -> [String: Double] {
        let byLib = Dictionary(grouping: rows, by: \.lib)
        let anchors = byLib.filter { !$0.key.hasPrefix("mms-") }
        func bestAnchor(at recall: Double) -> Double? {
            anchors.values.compactMap { qps(at: recall, $0) }.max()
        }
        func ratio(_ lib: String, _ recall: Double) -> Double {
            guard let ours = byLib[lib].flatMap({ qps(at: recall, $0) }), let anchor = bestAnchor(at: recall) else { return .nan }
            return ours / anchor
        }
        var summary: [String: Double] = [
            "qps_ratio_at_095": ratio("mms-f32", 0.95),
            "qps_ratio_at_099": ratio("mms-f32", 0.99),
            "i8_qps_ratio_at_095": ratio("mms-i8", 0.95),
            "allocs_per_query": allocsPerQuery,
        ]
        if let f32 = memory["f32"], let i8 = memory["i8"] {
            summary["i8_memory_ratio"] = Double(i8.graph + i8.codes) / Double(f32.total)
        } else {
            summary["i8_memory_ratio"] = .nan
        }
        if let ours = byLib["mms-f32"]?.first?.buildSeconds, let hnswlib = byLib["hnswlib"]?.first?.buildSeconds {
            summary["build_ratio"] = ours / hnswlib
        } else {
            summary["build_ratio"] = .nan
        }
        return summary
    }
}
