import ArgumentParser
import Evaluation
import Foundation
import MultimodalSearch
import SearchCore

/// `mms calibrate --qrels FILE --queries FILE --store <dir>`: fits score →
/// probability of relevance per retriever and stores it with the collection.
struct CalibrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Fit score → probability of relevance from judged queries and store it with the collection (for --min-relevance).",
        discussion: """
            Each retriever (caption, keyword, image, text→image) is asked alone for every judged query; its
            scores and whether each result is judged relevant fit a Platt curve or an isotonic map. Items the
            qrels do not mention count as not relevant. `mms search --min-relevance 0.5` then keeps results
            some retriever is at least 50% sure of.
            """)

    @OptionGroup var options: StoreOptions

    @Option(help: "A TREC qrels file (document ids = item ids).")
    var qrels: String

    @Option(help: "Query texts: one `id<TAB>text` per line.")
    var queries: String

    @Option(help: "platt or isotonic.")
    var method: String = "platt"

    func run() async throws {
        guard let method = RelevanceCalibration.Method(rawValue: method) else {
            throw ValidationError("--method \(method): use platt or isotonic")
        }
        let (engine, collection) = try await options.open()
        let judged = try Qrels(contentsOf: URL(fileURLWithPath: qrels))
        var texts: [String: String] = [:]
        for line in try String(contentsOfFile: queries, encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("\(queries): \"\(line)\" is not id<TAB>text") }
            texts[parts[0]] = parts[1]
        }
        let calibration = try engine.fitCalibration(queries: texts, judgements: judged, method: method)
        try collection.setCalibration(calibration)
        try collection.close()
        print("Calibrated \(calibration.models.count) retrievers on \(judged.queryIDs.count) queries (\(method.rawValue)); stored in \(options.store)/calibration.json")
        for (source, model) in calibration.models.sorted(by: { $0.key < $1.key }) {
            switch model {
            case .platt(let p):
                print(String(format: "  %@: P(relevant) = 1 / (1 + exp(%.4f·score + %.4f))", source, p.a, p.b))
            case .isotonic(let m):
                print("  \(source): isotonic, \(m.thresholds.count) points")
            }
        }
    }
}
