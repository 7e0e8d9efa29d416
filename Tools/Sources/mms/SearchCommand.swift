import ArgumentParser
import Foundation
import MultimodalSearch
import Ranking
import SearchCore

/// `mms search "text" [--image FILE] --store <dir>`.
struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search a store by text, by picture, or both; print the ranked results and optionally an HTML page.")

    @Argument(help: "The query text.")
    var text: String?

    @Option(help: "A query picture (JPEG or PNG); needs --clip.")
    var image: String?

    @OptionGroup var options: StoreOptions

    @Option(name: .customShort("k"), help: "How many results.")
    var k: Int = 10

    @Option(help: "Only items whose metadata matches: key=value (exact) or key^=prefix, e.g. category^=animals.")
    var filter: [String] = []

    @Option(help: "Also write an HTML page of thumbnails, captions and scores to this file.")
    var html: String?

    @Option(help: "How retrievers combine: rrf (reciprocal rank, k 60), minmax or zscore (weighted sum after that normalisation), dbsf (distribution-based).")
    var fusion: String = "rrf"

    @Option(help: "A retriever's weight in fusion, source=weight (sources: caption, keyword, image, text→image); 0 leaves it out, e.g. --weight caption=0 searches by keywords alone.")
    var weight: [String] = []

    @Option(help: "A retriever's lowest score, source=score (cosine similarity for caption/image, BM25 for keyword); lower ones are cut before fusion.")
    var minScore: [String] = []

    @Option(help: "The lowest calibrated probability of relevance a result may have (see `mms calibrate`).")
    var minRelevance: Double?

    func validate() throws {
        if text == nil && image == nil { throw ValidationError("give query text, --image FILE, or both") }
        if k < 1 { throw ValidationError("-k must be at least 1") }
        if let p = minRelevance, !(0...1).contains(p) { throw ValidationError("--min-relevance is a probability in [0, 1]") }
        _ = try fusionMethod()
        _ = try Self.pairs(minScore, "--min-score")
    }

    static func pairs(_ terms: [String], _ option: String) throws -> [String: Double] {
        var out: [String: Double] = [:]
        for term in terms {
            let parts = term.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let value = Double(parts[1]), value.isFinite else {
                throw ValidationError("\(option) \(term): write source=number")
            }
            out[parts[0]] = value
        }
        return out
    }

    func fusionMethod() throws -> ScoreFusion {
        let weights = try Self.pairs(weight, "--weight")
        switch fusion {
        case "rrf": return .reciprocalRank(weights: weights)
        case "minmax": return .weighted(weights: weights, normalization: .minMax)
        case "zscore": return .weighted(weights: weights, normalization: .zScore)
        case "dbsf": return .distributionBased(weights: weights)
        default: throw ValidationError("--fusion \(fusion): use rrf, minmax, zscore or dbsf")
        }
    }

    func run() async throws {
        let (engine, collection) = try await options.open()
        let query = SearchQuery(
            text: text, image: image.map(ImageSource.file), k: k, fusion: try fusionMethod(),
            minScores: try Self.pairs(minScore, "--min-score"), minRelevance: minRelevance)
        let started = ContinuousClock.now
        let results: [SearchResult]
        if filter.isEmpty {
            results = try await engine.search(query)
        } else {
            let allowed = try MetadataFilter.parse(filter).matching(try collection.items())
            results = try await engine.search(query, filter: AllowList(allowed))
        }
        let elapsed = ContinuousClock.now - started
        print("\(results.count) results for \(describe()) in \(elapsed.formatted(.units(allowed: [.milliseconds], fractionalPart: .show(length: 1)))):")
        print("fusion: \(fusion)\(weight.isEmpty ? "" : " (" + weight.joined(separator: ", ") + ")")"
            + (engine.keywordIndex == nil ? "; no keyword index" : ""))
        if !minScore.isEmpty || minRelevance != nil {
            var cuts = minScore.map { "\($0.replacingOccurrences(of: "=", with: " ≥ "))" }
            if let minRelevance {
                let models = (engine.calibration?.models ?? [:]).sorted { $0.key < $1.key }.map { source, model in
                    if case .platt = model { "\(source) platt" } else { "\(source) isotonic" }
                }
                cuts.append("relevance ≥ \(minRelevance) (calibrated: \(models.isEmpty ? "none" : models.joined(separator: ", ")))")
            }
            print("cut-offs: " + cuts.joined(separator: "; "))
        }
        for (rank, r) in results.enumerated() {
            let parts = r.explanation.keys.sorted().map { "\($0) \(String(format: "%.3f", r.explanation[$0]!))" }
            print(String(format: "%2d. %.4f  ", rank + 1, r.score) + "\(r.item.caption ?? "")  [\(r.item.category ?? "")]")
            print("      \(r.item.metadata["file"] ?? "")  (\(parts.joined(separator: ", ")))")
            if !r.matchedTerms.isEmpty {
                let matches = r.matchedTerms.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.joined(separator: " "))" }
                print("      keyword \(String(format: "%.3f", r.keywordScore ?? 0)) matched " + matches.joined(separator: "; "))
            }
        }
        if let html {
            try HTMLReport.write(results, title: describe(), to: URL(fileURLWithPath: html))
            print("wrote \(html)")
        }
    }

    private func describe() -> String {
        [text.map { "\"\($0)\"" }, image.map { "picture \($0)" }].compactMap { $0 }.joined(separator: " + ")
    }
}

/// `key=value` and `key^=prefix` over an item's fields: `category`, `tag`
/// (any of its tags), `caption`, or a metadata key.
struct MetadataFilter {
    var exact: [(String, String)] = []
    var prefix: [(String, String)] = []

    static func parse(_ terms: [String]) throws -> MetadataFilter {
        var f = MetadataFilter()
        for term in terms {
            if let r = term.range(of: "^=") {
                f.prefix.append((String(term[..<r.lowerBound]), String(term[r.upperBound...])))
            } else if let r = term.range(of: "=") {
                f.exact.append((String(term[..<r.lowerBound]), String(term[r.upperBound...])))
            } else {
                throw ValidationError("--filter \(term): write key=value or key^=prefix")
            }
        }
        return f
    }

    func matching(_ items: [CatalogItem]) -> [VectorID] {
        items.filter { item in
            exact.allSatisfy { key, value in Self.values(item, key).contains(value) }
                && prefix.allSatisfy { key, value in Self.values(item, key).contains { $0.hasPrefix(value) } }
        }.map(\.id)
    }

    static func values(_ item: CatalogItem, _ key: String) -> [String] {
        switch key {
        case "category": item.category.map { [$0] } ?? []
        case "tag": item.tags
        case "caption": item.caption.map { [$0] } ?? []
        default: item.metadata[key].map { [$0] } ?? []
        }
    }
}

/// A self-contained HTML page of results: thumbnails inlined as data URIs.
enum HTMLReport {
    static func write(_ results: [SearchResult], title: String, to url: URL) throws {
        var page = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>mms: \(escape(title))</title>
            <style>
            body { font-family: system-ui, sans-serif; margin: 2em; background: #fafafa; color: #222; }
            h1 { font-size: 1.3em; }
            .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 1em; }
            .card { background: white; border-radius: 8px; padding: 0.8em; box-shadow: 0 1px 3px rgba(0,0,0,.15); }
            .card img { width: 100%; height: 160px; object-fit: contain; background: #eee; border-radius: 4px; }
            .caption { font-weight: 600; margin: 0.4em 0 0.2em; }
            .meta { font-size: 0.8em; color: #666; }
            </style></head><body>
            <h1>Results for \(escape(title))</h1>
            <div class="grid">

            """
        for (rank, r) in results.enumerated() {
            var img = ""
            if case .file(let path)? = r.item.image, let data = FileManager.default.contents(atPath: path) {
                let type = path.lowercased().hasSuffix(".png") ? "image/png" : "image/jpeg"
                img = "<img alt=\"\(escape(r.item.caption ?? ""))\" src=\"data:\(type);base64,\(data.base64EncodedString())\">"
            }
            let parts = r.explanation.keys.sorted().map { "\($0) \(String(format: "%.3f", r.explanation[$0]!))" }
            page += """
                <div class="card">\(img)
                <div class="caption">\(rank + 1). \(escape(r.item.caption ?? ""))</div>
                <div class="meta">score \(String(format: "%.4f", r.score)) · \(escape(r.item.category ?? ""))</div>
                <div class="meta">\(escape(parts.joined(separator: " · ")))</div></div>

                """
        }
        // Records how many thumbnails actually decoded, for a headless browser to report.
        page += """
            </div>
            <script>
            window.addEventListener('load', () => {
              const images = Array.from(document.images);
              const loaded = images.filter(i => i.complete && i.naturalWidth > 0).length;
              document.body.dataset.imagesLoaded = loaded + '/' + images.length;
            });
            </script>
            </body></html>

            """
        do {
            try page.write(to: url, atomically: true, encoding: .utf8)
        } catch {
            throw ValidationError("cannot write \(url.path): \(error)")
        }
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
