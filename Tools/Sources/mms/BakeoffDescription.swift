import ArgumentParser
import Foundation

/// A bake-off file: the pictures, the queries and judgements, and each
/// candidate's settings. Paths are relative to the file's folder.
///
/// ```json
/// {
///   "title": "Demo pictures",
///   "pictures": "/usr/share/tuxpaint/stamps",
///   "queries": {"categories": {"minItems": 3}},
///   "k": 10, "measures": ["ndcg_cut_10", "recall_10"],
///   "concurrency": 2, "passes": 3,
///   "baseline": "f32",
///   "candidates": [
///     {"name": "f32"},
///     {"name": "int8", "encoding": "int8"},
///     {"name": "f32 + engagement", "engagement": {"sessions": 400, "seed": 1}},
///     {"name": "f32 + mmr", "rerankers": ["mmr"], "mmrLambda": 0.8},
///     {"name": "hybrid", "keyword": true, "fusion": "rrf"}
///   ],
///   "gate": "gate.json"
/// }
/// ```
struct BakeoffDescription: Decodable {
    /// The report's title.
    var title: String?
    /// The folder indexed for every candidate (as `mms index` does: captions from `.txt` files beside
    /// the pictures, category folders).
    var pictures: String
    /// Where each candidate's collection is built (kept between runs and rebuilt when its build settings
    /// change). Default: `.bakeoff/` beside the file.
    var work: String?
    /// Queries and judgements: category folders (default) or a qrels file with query texts.
    var queries: Queries?
    /// Results per query, the cut-off of the run. Default 10.
    var k: Int?
    /// Measures in trec_eval naming. Default ndcg_cut_10 and recall_10.
    var measures: [String]?
    /// Queries in flight at once while timing. Default 2.
    var concurrency: Int?
    /// Timed passes over the queries, after one untimed pass. Default 3.
    var passes: Int?
    /// The baseline's name; the first candidate when absent.
    var baseline: String?
    /// A gate file.
    var gate: String?
    /// The seed of every random step (bootstrap, randomization, simulated sessions). Default 42.
    var seed: UInt64?
    /// The candidates, the baseline among them.
    var candidates: [Candidate]

    struct Queries: Decodable {
        struct Categories: Decodable { var minItems: Int? }
        /// Every category folder with at least `minItems` pictures (default 3) is a query: its last folder
        /// name as text, its pictures as the relevant items.
        var categories: Categories?
        /// A TREC qrels file whose document ids are picture paths relative to `pictures`.
        var qrels: String?
        /// Query texts for `qrels`: one `id<TAB>text` per line.
        var texts: String?
    }

    struct Candidate: Decodable {
        /// A unique name.
        var name: String
        /// How each vector is stored and traversed: float32 (default), float16 or int8.
        var encoding: String?
        /// HNSW graph degree. Default 16.
        var m: Int?
        /// HNSW build list size. Default 200.
        var efConstruction: Int?
        /// HNSW search list size. Default 64.
        var ef: Int?
        /// Candidates each retriever hands to fusion. Default 100.
        var candidatesPerRetriever: Int?
        /// Whether the collection keeps a BM25 keyword index beside its vectors, so text queries also
        /// retrieve by keywords and the results are fused (hybrid search). Default false: dense only.
        var keyword: Bool?
        /// How retrievers' results are fused: rrf (default), minmax, zscore or dbsf.
        var fusion: String?
        /// Weight of the engagement prior in ranking. Default 1.
        var engagementStrength: Double?
        /// Simulated engagement recorded before the queries are timed.
        var engagement: Engagement?
        /// A text model folder for this candidate (captions and queries); the command's --text-model
        /// (or its default) when absent.
        var textModel: String?
        /// Reranking stages after engagement, in order: `mmr` (maximal marginal relevance over caption
        /// embeddings, `mmrLambda`, default 0.7) and `collapse` (near-duplicate captions collapsed,
        /// `collapseThreshold` cosine, default 0.95).
        var rerankers: [String]?
        var mmrLambda: Double?
        var collapseThreshold: Double?

        /// Sessions of simulated users: each picks a query of the bake-off, sees this candidate's
        /// results, clicks relevant ones with a position-biased probability (0.7 / rank^0.9) and hides an
        /// irrelevant one now and then (0.05). The sessions reuse the bake-off's own queries, so the
        /// figure is what engagement adds when users repeat queries — optimistic for unseen ones.
        struct Engagement: Decodable {
            var sessions: Int
            var seed: UInt64?
        }

        /// The settings that change what is built (the collection), as a stamp.
        var buildStamp: String {
            "encoding=\(encoding ?? "float32") m=\(m ?? 16) efConstruction=\(efConstruction ?? 200) keyword=\(keyword ?? false)"
        }
    }

    static func load(_ path: String) throws -> (BakeoffDescription, base: URL) {
        let url = URL(fileURLWithPath: path)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ValidationError("cannot read \(path): \(error.localizedDescription)")
        }
        let description: BakeoffDescription
        do { description = try JSONDecoder().decode(BakeoffDescription.self, from: data) } catch {
            throw ValidationError("\(path) is not a bake-off description: \(error)")
        }
        try description.check()
        return (description, url.deletingLastPathComponent())
    }

    func check() throws {
        guard !candidates.isEmpty else { throw ValidationError("a bake-off needs candidates") }
        var names = Set<String>()
        for candidate in candidates {
            guard names.insert(candidate.name).inserted else {
                throw ValidationError("the candidate name \"\(candidate.name)\" is used twice")
            }
            if let encoding = candidate.encoding, !["float32", "float16", "int8"].contains(encoding) {
                throw ValidationError("\(candidate.name): encoding must be float32, float16 or int8, not \(encoding)")
            }
            if let fusion = candidate.fusion, !["rrf", "minmax", "zscore", "dbsf"].contains(fusion) {
                throw ValidationError("\(candidate.name): fusion must be rrf, minmax, zscore or dbsf, not \(fusion)")
            }
            for (value, what) in [(candidate.m, "m"), (candidate.efConstruction, "efConstruction"), (candidate.ef, "ef"),
                                  (candidate.candidatesPerRetriever, "candidatesPerRetriever")] {
                if let value, value < 1 { throw ValidationError("\(candidate.name): \(what) must be at least 1") }
            }
            for reranker in candidate.rerankers ?? [] where !["mmr", "collapse"].contains(reranker) {
                throw ValidationError("\(candidate.name): rerankers are mmr and collapse, not \(reranker)")
            }
            if let lambda = candidate.mmrLambda, !(0...1).contains(lambda) {
                throw ValidationError("\(candidate.name): mmrLambda must lie in [0, 1]")
            }
            if let threshold = candidate.collapseThreshold, !(threshold > 0 && threshold <= 1) {
                throw ValidationError("\(candidate.name): collapseThreshold must lie in (0, 1]")
            }
            if let sessions = candidate.engagement?.sessions, sessions < 1 {
                throw ValidationError("\(candidate.name): engagement sessions must be at least 1")
            }
        }
        if candidates.count < 2 { throw ValidationError("a bake-off needs a baseline and at least one other candidate") }
        if let baseline, !names.contains(baseline) {
            throw ValidationError("the baseline \"\(baseline)\" is not one of the candidates")
        }
        if (k ?? 10) < 1 || (concurrency ?? 2) < 1 || (passes ?? 3) < 1 {
            throw ValidationError("k, concurrency and passes must be at least 1")
        }
        if let q = queries, q.qrels != nil, q.texts == nil {
            throw ValidationError("queries.qrels needs queries.texts (one id<TAB>text per line)")
        }
    }
}
