import Foundation
import MultimodalSearch
import SearchCore
import Synchronization

/// A keyword retriever for tests of the engine's seam: lower-cased words,
/// a document's score is the number of query-word occurrences in its fields,
/// each field weighted (caption 1, others 0.5). Not BM25: the tests check
/// what the engine does with keyword hits, not how they are scored.
///
/// Durable when given a file: every write replaces the file whole, so a
/// collection can be reopened over it. `failNextAdd` makes the next add
/// throw (an interrupted write).
final class FakeKeywordIndex: KeywordRetriever {
    struct State {
        var documents: [VectorID: [String: String]] = [:]
        var flushes = 0
        var failNextAdd = false
        var closed = false
    }

    let file: String?
    let state = Mutex(State())

    /// An index in memory only.
    init() { file = nil }

    /// An index kept in `file`, read back when it exists.
    init(file: String) throws(SearchError) {
        self.file = file
        guard let data = FileManager.default.contents(atPath: file) else { return }
        do {
            let stored = try JSONDecoder().decode([String: [String: String]].self, from: data)
            state.withLock { s in
                for (id, fields) in stored { s.documents[VectorID(UInt64(id)!)] = fields }
            }
        } catch {
            throw SearchError(.corruptData, "\(file): \(error)")
        }
    }

    static func words(_ text: String) -> [String] {
        text.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "-") }).map(String.init)
    }

    func search<Filter: SearchFilter>(_ query: String, k: Int, filter: Filter) throws(SearchError) -> [KeywordHit] {
        let terms = Set(Self.words(query))
        let documents = state.withLock { $0.documents }
        var hits: [KeywordHit] = []
        for (id, fields) in documents where filter.allows(id) {
            var score = 0.0
            var matched: [String: [String]] = [:]
            for (field, text) in fields {
                let words = Self.words(text)
                let found = terms.filter { words.contains($0) }.sorted()
                guard !found.isEmpty else { continue }
                matched[field] = found
                let weight = field == KeywordField.caption ? 1.0 : 0.5
                score += weight * Double(words.filter { terms.contains($0) }.count)
            }
            if score > 0 { hits.append(KeywordHit(id: id, score: score, matchedTerms: matched)) }
        }
        hits.sort { $0.score > $1.score || ($0.score == $1.score && $0.id < $1.id) }
        return Array(hits.prefix(k))
    }

    func add(_ documents: [KeywordDocument]) throws(SearchError) {
        let fail = state.withLock { s in
            defer { s.failNextAdd = false }
            return s.failNextAdd
        }
        if fail { throw SearchError(.io, "the fake keyword index was told to fail this write") }
        state.withLock { s in
            for d in documents { s.documents[d.id] = d.fields }
        }
        try persist()
    }

    func remove(_ ids: [VectorID]) throws(SearchError) {
        state.withLock { s in
            for id in ids { s.documents[id] = nil }
        }
        try persist()
    }

    func contains(_ id: VectorID) -> Bool { state.withLock { $0.documents[id] != nil } }

    var count: Int { state.withLock { $0.documents.count } }

    func flush() throws(SearchError) { state.withLock { $0.flushes += 1 } }

    func close() { state.withLock { $0.closed = true } }

    private func persist() throws(SearchError) {
        guard let file else { return }
        let snapshot = state.withLock { s in
            Dictionary(uniqueKeysWithValues: s.documents.map { (String($0.key.rawValue), $0.value) })
        }
        do {
            try FileManager.default.createDirectory(
                atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try JSONEncoder().encode(snapshot).write(to: URL(fileURLWithPath: file), options: .atomic)
        } catch {
            throw SearchError(.io, "\(file): \(error)")
        }
    }
}
