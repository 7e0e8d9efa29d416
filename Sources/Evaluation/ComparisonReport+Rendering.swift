import Foundation

extension ComparisonReport {
    /// A plain-text table for a terminal: each measure's systems with mean,
    /// difference, interval, adjusted p-values, effect size and wins / ties /
    /// losses; then each system's cost when `costs` has it.
    public func table(costs: [String: RunCost] = [:]) -> String {
        let percent = Int((options.confidence * 100).rounded())
        var rows: [[String]] = [
            ["measure", "system", "mean", "Δ", "\(percent)% CI of Δ", "p rand", "p t", "d", "W/T/L"]
        ]
        for measure in measures {
            let first = self.rows.first { $0.measure == measure }
            rows.append([
                "\(measure)", baseline, first.map { f4($0.comparison.baselineMean) } ?? "", "", "", "", "", "", "",
            ])
            for row in self.rows where row.measure == measure {
                let c = row.comparison
                rows.append([
                    "", row.candidate, f4(c.candidateMean), signed(c.meanDifference),
                    "[\(signed(c.confidenceInterval.lowerBound)), \(signed(c.confidenceInterval.upperBound))]",
                    pValue(row.adjustedRandomizationPValue), pValue(row.adjustedTTestPValue),
                    String(format: "%.2f", c.effectSize), "\(c.wins)/\(c.ties)/\(c.losses)",
                ])
            }
        }
        var text = Self.align(rows)
        text += "\n\(queryIDs.count) queries; p-values two-sided, \(options.correction.rawValue)-adjusted over \(candidates.count) candidate(s); randomization test with \(options.permutations) permutations (exact when 2^n is fewer); seed \(options.seed)\n"
        let systems = [baseline] + candidates
        if systems.contains(where: { costs[$0] != nil }) {
            var costRows: [[String]] = [["system", "p50 ms", "p95 ms", "p99 ms", "QPS", "CPU s/1k q", "peak MiB", "concurrency"]]
            for system in systems {
                guard let cost = costs[system] else { continue }
                costRows.append([
                    system, ms(cost.p50), ms(cost.p95), ms(cost.p99), String(format: "%.1f", cost.queriesPerSecond),
                    String(format: "%.3f", cost.cpuSecondsPerThousandQueries),
                    cost.peakMemoryBytes.map { String(format: "%.1f", Double($0) / 1_048_576) } ?? "—",
                    "\(cost.concurrency)",
                ])
            }
            text += "\n" + Self.align(costRows)
        }
        return text
    }

    /// A self-contained HTML page: the tables, the gate's verdict, a
    /// per-query difference chart for every candidate and measure (queries
    /// sorted by difference, the interval shaded), and a quality-against-p99
    /// chart of every system when `costs` has them. The charts are SVG drawn
    /// here; the page needs no script to show them. On load, a small script
    /// records how many charts the browser laid out in the body's
    /// `data-charts-drawn` attribute ("drawn/total"), which a headless
    /// browser can check.
    public func html(title: String = "Bake-off", costs: [String: RunCost] = [:], verdict: GateVerdict? = nil) -> String {
        var charts: [String] = []
        for row in rows {
            charts.append(differenceChart(row))
        }
        if let measure = measures.first, costs.count >= 2 {
            charts.append(qualityLatencyChart(measure, costs: costs))
        }
        var body = "<h1>\(escape(title))</h1>\n"
        if let verdict {
            let status = verdict.passed ? "passed" : "failed"
            body += "<section class=\"gate \(status)\"><h2>Gate: \(status)</h2><ul>"
            for check in verdict.checks {
                body += "<li class=\"\(check.passed ? "pass" : "fail")\">\(check.passed ? "PASS" : "FAIL") \(escape(check.message))</li>"
            }
            body += "</ul></section>\n"
        }
        body += "<pre>\(escape(table(costs: costs)))</pre>\n"
        body += charts.joined(separator: "\n")
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>
            body { font: 14px system-ui, sans-serif; margin: 2em; color: #222; }
            pre { font-size: 12px; background: #f6f6f6; padding: 1em; overflow-x: auto; }
            figure { display: inline-block; margin: 0 1em 1em 0; vertical-align: top; }
            figcaption { font-size: 12px; color: #555; max-width: 560px; }
            .gate.passed h2 { color: #1a7f37; } .gate.failed h2 { color: #c62828; }
            li.fail { color: #c62828; } li.pass { color: #1a7f37; }
            </style></head>
            <body data-charts-drawn="0/\(charts.count)">
            \(body)
            <script>
            const svgs = document.querySelectorAll("svg.chart");
            let drawn = 0;
            for (const svg of svgs) { const box = svg.getBBox(); if (box.width > 0 && box.height > 0) drawn += 1; }
            document.body.dataset.chartsDrawn = drawn + "/" + svgs.length;
            </script>
            </body></html>

            """
    }

    private func differenceChart(_ row: Row) -> String {
        let width = 560.0
        let height = 220.0
        let pad = 36.0
        let sorted = row.comparison.differences.sorted()
        let interval = row.comparison.confidenceInterval
        let extent = max(sorted.map(abs).max() ?? 0, abs(interval.lowerBound), abs(interval.upperBound), 1e-9)
        let y = { (v: Double) in height / 2 - v / extent * (height / 2 - pad / 2) }
        let barWidth = (width - 2 * pad) / Double(max(sorted.count, 1))
        var svg =
            "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">"
        svg += "<rect x=\"\(pad)\" y=\"\(y(interval.upperBound))\" width=\"\(width - 2 * pad)\" height=\"\(max(y(interval.lowerBound) - y(interval.upperBound), 1))\" fill=\"#90caf9\" opacity=\"0.35\"/>"
        for (index, value) in sorted.enumerated() {
            let top = min(y(value), y(0))
            let barHeight = max(abs(y(value) - y(0)), value == 0 ? 0 : 1)
            let colour = value > 0 ? "#2e7d32" : value < 0 ? "#c62828" : "#9e9e9e"
            svg += "<rect x=\(attr(pad + Double(index) * barWidth)) y=\(attr(top)) width=\(attr(max(barWidth - 1, 0.5))) height=\(attr(barHeight)) fill=\"\(colour)\"/>"
        }
        svg += "<line x1=\"\(pad)\" x2=\"\(width - pad)\" y1=\"\(y(0))\" y2=\"\(y(0))\" stroke=\"#333\"/>"
        svg += "<text x=\"4\" y=\"\(y(extent) + 4)\" font-size=\"10\">+\(f4(extent))</text>"
        svg += "<text x=\"4\" y=\"\(y(-extent) + 4)\" font-size=\"10\">−\(f4(extent))</text>"
        svg += "</svg>"
        let c = row.comparison
        let caption =
            "\(escape(row.candidate)) − \(escape(baseline)), \(row.measure), per query (sorted): mean \(signed(c.meanDifference)), interval shaded, \(c.wins) better / \(c.ties) equal / \(c.losses) worse, p = \(pValue(row.adjustedRandomizationPValue))"
        return "<figure>\(svg)<figcaption>\(caption)</figcaption></figure>"
    }

    private func qualityLatencyChart(_ measure: Measure, costs: [String: RunCost]) -> String {
        let width = 560.0
        let height = 300.0
        let pad = 50.0
        var points: [(String, Double, Double)] = []
        for system in [baseline] + candidates {
            guard let cost = costs[system] else { continue }
            let mean =
                system == baseline
                ? rows.first { $0.measure == measure }?.comparison.baselineMean
                : row(measure, candidate: system)?.comparison.candidateMean
            if let mean { points.append((system, cost.p99 * 1000, mean)) }
        }
        let maxX = max(points.map(\.1).max() ?? 1, 1e-6) * 1.15
        let minY = (points.map(\.2).min() ?? 0) - 0.02
        let maxY = (points.map(\.2).max() ?? 1) + 0.02
        let x = { (v: Double) in pad + v / maxX * (width - 2 * pad) }
        let y = { (v: Double) in height - pad - (v - minY) / max(maxY - minY, 1e-9) * (height - 2 * pad) }
        var svg =
            "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">"
        svg += "<line x1=\"\(pad)\" y1=\"\(height - pad)\" x2=\"\(width - pad)\" y2=\"\(height - pad)\" stroke=\"#333\"/>"
        svg += "<line x1=\"\(pad)\" y1=\"\(pad)\" x2=\"\(pad)\" y2=\"\(height - pad)\" stroke=\"#333\"/>"
        svg += "<text x=\"\(width / 2 - 40)\" y=\"\(height - 12)\" font-size=\"11\">p99 latency (ms)</text>"
        svg += "<text x=\"6\" y=\"\(pad - 12)\" font-size=\"11\">\(measure)</text>"
        svg += "<text x=\"\(pad - 4)\" y=\"\(height - pad + 14)\" font-size=\"10\">0</text>"
        svg += "<text x=\"\(width - pad - 20)\" y=\"\(height - pad + 14)\" font-size=\"10\">\(String(format: "%.2f", maxX))</text>"
        svg += "<text x=\"4\" y=\"\(y(maxY) + 4)\" font-size=\"10\">\(f4(maxY))</text>"
        svg += "<text x=\"4\" y=\"\(y(minY) + 4)\" font-size=\"10\">\(f4(minY))</text>"
        for (name, latency, quality) in points {
            svg += "<circle cx=\(attr(x(latency))) cy=\(attr(y(quality))) r=\"5\" fill=\"\(name == baseline ? "#1565c0" : "#ef6c00")\"/>"
            svg += "<text x=\(attr(x(latency) + 8)) y=\(attr(y(quality) + 4)) font-size=\"11\">\(escape(name))</text>"
        }
        svg += "</svg>"
        return "<figure>\(svg)<figcaption>Mean \(measure) against p99 latency, each system (baseline in blue).</figcaption></figure>"
    }

    private static func align(_ rows: [[String]]) -> String {
        guard let columns = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: columns)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }.joined(separator: "\n") + "\n"
    }
}

private func f4(_ value: Double) -> String { String(format: "%.4f", value) }
private func signed(_ value: Double) -> String { String(format: "%+.4f", value) }
private func ms(_ seconds: Double) -> String { String(format: "%.2f", seconds * 1000) }
private func pValue(_ p: Double) -> String { p < 0.0001 ? "<0.0001" : String(format: "%.4f", p) }
private func attr(_ value: Double) -> String { "\"\(String(format: "%.1f", value))\"" }
private func escape(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
