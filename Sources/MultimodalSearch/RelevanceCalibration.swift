import Evaluation
import Foundation
import SearchCore

/// Per retriever, a map from its score to the probability that the item is
/// relevant, fitted from judged queries; what ``SearchQuery/minRelevance``
/// cuts at. A candidate's relevance is the largest probability any of its
/// retrievers' scores maps to (a candidate one retriever is sure of is kept
/// whatever the others say).
///
/// ```swift
/// let calibration = try engine.fitCalibration(queries: ["q1": "red bicycle"], judgements: qrels, method: .platt)
/// try collection.setCalibration(calibration)
/// let sure = try engine.search(SearchQuery(text: "red bicycle", minRelevance: 0.5))
/// ```
public struct RelevanceCalibration: Sendable, Hashable, Codable {
    /// How a score becomes a probability.
    public enum Model: Sendable, Hashable, Codable {
        /// A logistic curve (``Evaluation/PlattScaling``).
        case platt(PlattScaling)
        /// A non-decreasing step-and-slope map (``Evaluation/IsotonicRegression``).
        case isotonic(IsotonicRegression)

        /// The probability of relevance of `score`.
        public func probability(_ score: Double) -> Double {
            switch self {
            case .platt(let m): m.probability(score)
            case .isotonic(let m): m.probability(score)
            }
        }
    }

    /// How ``SearchEngine/fitCalibration(queries:judgements:method:depth:)`` fits a model.
    public enum Method: String, Sendable, Hashable, Codable, CaseIterable {
        /// Platt scaling: smooth, needs few judgements.
        case platt
        /// Isotonic regression: any monotone shape, needs more judgements.
        case isotonic
    }

    /// The model of each retriever, keyed by ``SearchSource`` name.
    public var models: [String: Model]

    /// A calibration.
    public init(models: [String: Model]) { self.models = models }

    /// The probability of relevance of `score` from retriever `source`, if it is calibrated.
    public func probability(source: String, score: Double) -> Double? { models[source]?.probability(score) }

    /// A candidate's relevance from its per-retriever scores (a result's
    /// `explanation`): the largest probability among its calibrated
    /// retrievers, or nil when none of them is calibrated.
    public func relevance(of scores: [String: Double]) -> Double? {
        var best: Double?
        for (source, model) in models {
            guard let s = scores[source] else { continue }
            let p = model.probability(s)
            best = max(best ?? p, p)
        }
        return best
    }

    /// Fits one retriever's model to its scores judged relevant or not.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/invalidArgument`` for no
    ///   scores, a NaN or infinite one, or counts that differ.
    public static func fit(_ method: Method, scores: [Double], labels: [Bool]) throws(SearchError) -> Model {
        switch method {
        case .platt: .platt(try PlattScaling.fit(scores: scores, labels: labels))
        case .isotonic: .isotonic(try IsotonicRegression.fit(scores: scores, labels: labels))
        }
    }

    static let format = 1

    private struct File: Codable {
        var format: Int
        var models: [String: Model]
    }

    func encoded() throws(SearchError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            return Array(try encoder.encode(File(format: Self.format, models: models))) + [0x0A]
        } catch {
            throw SearchError(.invalidArgument, "the calibration cannot be written as JSON: \(error)")
        }
    }

    static func decode(_ bytes: [UInt8], path: String) throws(SearchError) -> RelevanceCalibration {
        struct Probe: Codable { var format: Int }
        let data = Data(bytes)
        let format: Int
        do { format = try JSONDecoder().decode(Probe.self, from: data).format } catch {
            throw SearchError(.corruptData, "\(path) is not a relevance calibration: \(error)")
        }
        guard format == Self.format else {
            throw SearchError(.unsupportedFormat, "\(path) is calibration format \(format); this build reads format \(Self.format)")
        }
        do {
            let file = try JSONDecoder().decode(File.self, from: data)
            // Decoding bypasses the isotonic map's checks: run them.
            for case (let source, .isotonic(let m)) in file.models {
                do { _ = try IsotonicRegression(thresholds: m.thresholds, values: m.values) } catch {
                    throw SearchError(.corruptData, "\(path), retriever \(source): \(error.message)")
                }
            }
            for case (let source, .platt(let m)) in file.models where !m.a.isFinite || !m.b.isFinite {
                throw SearchError(.corruptData, "\(path), retriever \(source): Platt parameters are not finite")
            }
            return RelevanceCalibration(models: file.models)
        } catch let error as SearchError {
            throw error
        } catch {
            throw SearchError(.corruptData, "\(path) is not a readable relevance calibration: \(error)")
        }
    }
}

extension SearchCollection {
    /// The relevance calibration stored with the collection, if one was set.
    public var calibration: RelevanceCalibration? { storedCalibration.withLock { $0 } }

    /// Stores `calibration` with the collection (`calibration.json`, replaced
    /// atomically and durably); nil removes it.
    public func setCalibration(_ calibration: RelevanceCalibration?) throws(SearchError) {
        try writer.withLock { _ throws(SearchError) in
            let files = CollectionFiles(directory: directory)
            if let calibration {
                try files.replaceAtomically(CollectionFiles.calibrationName, with: try calibration.encoded())
            } else if files.exists(CollectionFiles.calibrationName) {
                do { try FileManager.default.removeItem(atPath: files.path(CollectionFiles.calibrationName)) } catch {
                    throw SearchError(.io, "cannot remove \(files.path(CollectionFiles.calibrationName)): \(error)")
                }
            }
            storedCalibration.withLock { $0 = calibration }
        }
    }
}

extension SearchEngine {
    /// Fits a relevance calibration from judged queries: each of a query's
    /// retrievers is asked alone for its `depth` best, and every (score,
    /// judged relevant?) pair of a retriever fits its model (each retriever
    /// returns at most ``Configuration/candidatesPerRetriever``); an item the
    /// judgements do not mention counts as not relevant.
    ///
    /// - Parameters:
    ///   - queries: query text by query id (the ids of `judgements`).
    ///   - judgements: relevance by query id and item id (the item's
    ///     `VectorID` in decimal), e.g. read from a TREC qrels file.
    /// - Throws: ``SearchCore/SearchError`` `.invalidArgument` when a judged
    ///   query has no text, or a retriever saw only relevant or only
    ///   irrelevant items (nothing to fit); what searching throws.
    public func fitCalibration(
        queries: [String: String], judgements: Qrels, method: RelevanceCalibration.Method, depth: Int = 100
    ) throws(SearchError) -> RelevanceCalibration {
        guard depth > 0 else { throw SearchError(.invalidArgument, "depth must be at least 1, got \(depth)") }
        var samples: [String: (scores: [Double], labels: [Bool])] = [:]
        for id in judgements.queryIDs {
            guard let text = queries[id] else {
                throw SearchError(.invalidArgument, "judged query \(id) has no text in `queries`")
            }
            let judged = judgements[id]!
            let all = try self.query.retrievers(for: SearchQuery(text: text, k: depth))
            for retriever in all {
                let alone = SearchQuery(text: text, k: depth)
                let retrieved = try self.query.candidates([retriever], query: alone, calibration: nil, filter: NoFilter())
                for candidate in retrieved.fused.prefix(depth) {
                    guard let score = candidate.explanation[retriever.source] else { continue }
                    samples[retriever.source, default: ([], [])].scores.append(score)
                    samples[retriever.source, default: ([], [])].labels.append(judged.isRelevant(String(candidate.id.rawValue)))
                }
            }
        }
        var models: [String: RelevanceCalibration.Model] = [:]
        for (source, sample) in samples {
            let positives = sample.labels.filter { $0 }.count
            guard positives > 0, positives < sample.labels.count else {
                throw SearchError(
                    .invalidArgument,
                    "retriever \(source) found \(positives) relevant of \(sample.labels.count) judged results; a calibration needs both")
            }
            models[source] = try RelevanceCalibration.fit(method, scores: sample.scores, labels: sample.labels)
        }
        return RelevanceCalibration(models: models)
    }
}
