import ANNIndex
import Foundation

/// The `ann` suite's report: `{"suite", "dataset", "machine", "versions", "results", "filtered", "skipped", "summary"}`.
struct ANNReport: Encodable {
    var suite: String
    var dataset: String
    var machine: MachineInfo
    /// The anchors' package versions.
    var versions: [String: String]
    var results: [ANNRow]
    var filtered: [ANNFilteredRow]
    var skipped: [ANNSkipped]
    var summary: [String: ANNSummary.Value]

    func printTable() {
        print("suite \(suite) — \(dataset) — \(machine.cpu); kernels \(machine.kernels); OpenBLAS core \(machine.openblasCore)")
        let header = ["lib", "params", "recall@10", "QPS 1 thr", "QPS 2 thr", "build s", "MiB", "B/vector"]
        var table = [header]
        for r in results {
            table.append([
                r.lib, r.params, String(format: "%.4f", r.recall), String(format: "%.0f", r.qps1),
                r.qps2 > 0 ? String(format: "%.0f", r.qps2) : "-", String(format: "%.1f", r.buildSeconds),
                String(format: "%.0f", r.memoryMB), String(format: "%.0f", r.bytesPerVector),
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
        for s in skipped { print("not measured: \(s.lib): \(s.reason)") }
        print("summary:")
        for key in summary.keys.sorted() { print("  \(key) = \(summary[key]!)") }
    }

    func write(json path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try encoder.encode(self).write(to: URL(fileURLWithPath: path))
        print("wrote \(path)")
    }

    /// Several runs of one data set that split the anchors between them: the
    /// summary takes every ratio within one run; in the table, our curves from
    /// the second run on are named `mms-…#N`.
    static func merged(_ runs: [ANNStoredReport]) -> ANNReport {
        var results: [ANNRow] = []
        for (n, run) in runs.enumerated() {
            for var row in run.results {
                if n > 0 && row.lib.hasPrefix("mms-") { row.lib += "#\(n + 1)" }
                results.append(row)
            }
        }
        var summary = ANNSummary.compute(runs: runs.map(\.results), allocsPerQuery: runs.first?.summary.allocs ?? .nan)
        summary["runs"] = .number(Double(runs.count))
        return ANNReport(
            suite: "ann", dataset: runs.first?.dataset ?? "?", machine: runs.first!.machine,
            versions: runs.first?.versions ?? [:], results: results, filtered: runs.first?.filtered ?? [],
            skipped: runs.flatMap(\.skipped), summary: summary)
    }
}

/// What `--merge` reads back from a report.
struct ANNStoredReport: Decodable {
    struct Summary: Decodable {
        var allocs: Double?
        enum CodingKeys: String, CodingKey { case allocs = "allocs_per_query" }
        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            allocs = try? container.decode(Double.self, forKey: .allocs)
        }
    }
    var dataset: String
    var machine: MachineInfo
    var versions: [String: String]
    var results: [ANNRow]
    var filtered: [ANNFilteredRow]
    var skipped: [ANNSkipped]
    var summary: Summary
}

/// The issue's summary figures, from the curves.
enum ANNSummary {
    /// A summary entry: a figure, or a name (which library, which encoding).
    enum Value: Encodable, CustomStringConvertible {
        case number(Double)
        case text(String)

        func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .number(let value):
                if value.isFinite { try container.encode(value) } else { try container.encode(String(describing: value)) }
            case .text(let text): try container.encode(text)
            }
        }

        var description: String {
            switch self {
            case .number(let value): String(format: "%.3f", value)
            case .text(let text): text
            }
        }
    }

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

    /// Ratios ours ÷ anchor at recall 0.95 and 0.99, each taken within the run
    /// that measured that anchor (ours is re-measured in every run). "Ours" is
    /// the best of our encodings at that recall in that run; the best anchor is
    /// the one our ratio is lowest against.
    static func compute(runs: [[ANNRow]], allocsPerQuery: Double) -> [String: Value] {
        var summary: [String: Value] = ["allocs_per_query": .number(allocsPerQuery)]
        let noAnchor = runs.joined().allSatisfy { $0.lib.hasPrefix("mms-") }
        for (recall, tag) in [(0.95, "095"), (0.99, "099")] {
            var bestRatio = Double.infinity, bestAnchor = "", bestOurs = ""
            var perEncoding: [String: Double] = [:]
            for rows in runs {
                let byLib = Dictionary(grouping: rows, by: \.lib)
                let ours = byLib.filter { $0.key.hasPrefix("mms-") }.compactMapValues { qps(at: recall, $0) }
                guard let (oursLib, oursQPS) = ours.max(by: { $0.value < $1.value }) else { continue }
                for (lib, points) in byLib where !lib.hasPrefix("mms-") {
                    guard let anchor = qps(at: recall, points) else { continue }
                    if oursQPS / anchor < bestRatio { (bestRatio, bestAnchor, bestOurs) = (oursQPS / anchor, lib, oursLib) }
                    for (encoding, value) in ours { perEncoding[encoding] = min(perEncoding[encoding] ?? .infinity, value / anchor) }
                    if lib == "hnswlib" { summary["qps_ratio_vs_hnswlib_at_\(tag)"] = .number(oursQPS / anchor) }
                }
            }
            summary["qps_ratio_vs_best_at_\(tag)"] = .number(bestRatio.isFinite ? bestRatio : .nan)
            summary["best_anchor_at_\(tag)"] = .text(noAnchor ? "no anchor measured" : bestAnchor.isEmpty ? "none reaches \(recall)" : bestAnchor)
            summary["ours_at_\(tag)"] = .text(noAnchor ? "no anchor measured" : bestOurs.isEmpty ? "none reaches \(recall)" : bestOurs)
            for (encoding, ratio) in perEncoding { summary["\(encoding)_qps_ratio_vs_best_at_\(tag)"] = .number(ratio) }
            if summary["qps_ratio_vs_hnswlib_at_\(tag)"] == nil { summary["qps_ratio_vs_hnswlib_at_\(tag)"] = .number(.nan) }
        }
        for row in runs.first ?? [] where summary["bytes_per_vector.\(row.lib)"] == nil {
            summary["bytes_per_vector.\(row.lib)"] = .number(row.bytesPerVector)
        }
        for rows in runs.dropFirst() {
            for row in rows where !row.lib.hasPrefix("mms-") && summary["bytes_per_vector.\(row.lib)"] == nil {
                summary["bytes_per_vector.\(row.lib)"] = .number(row.bytesPerVector)
            }
        }
        if let ours = runs.first?.first(where: { $0.lib == "mms-f32" })?.buildSeconds,
            let hnswlib = runs.flatMap({ $0 }).first(where: { $0.lib == "hnswlib" })?.buildSeconds
        {
            summary["build_ratio_vs_hnswlib"] = .number(ours / hnswlib)
        }
        return summary
    }
}
