import Foundation
import SearchCore

extension Run {
    /// Reads TREC run text: one retrieved document per line,
    ///
    ///     query Q0 document rank score tag
    ///
    /// for example `q17 Q0 doc42 1 12.75 bm25`. Fields are separated by
    /// spaces or tabs; blank lines are skipped. The second field is ignored
    /// (it is conventionally `Q0`). The rank must be an integer but, as in
    /// trec_eval, does not order anything: ``ranking(for:)`` sorts by score.
    /// The score is a decimal floating-point number (`inf` and `-inf` are
    /// accepted; NaN is not). The run's ``name`` is the tag of the first line;
    /// other tags are not checked.
    ///
    /// - Parameters:
    ///   - text: the file's content.
    ///   - source: what to call the input in error messages.
    /// - Throws: `SearchError.Code.corruptData` for the first bad line,
    ///   with a message naming its line number and the reason: a wrong number
    ///   of fields, a rank that is not an integer, a score that is not a
    ///   number or is NaN, or a document listed twice for one query
    ///   (trec_eval refuses those too; the message names both lines). Empty
    ///   text gives an empty run named `run`.
    public init(trecText text: String, source: String = "run") throws(SearchError) {
        try self.init()
        var named = false
        var firstLine: [String: [String: Int]] = [:]
        try TRECLines.forEach(in: text) { line throws(SearchError) in
            guard line.fields.count == 6 else {
                throw TRECLines.error(
                    source, line, "expected 6 fields (query Q0 document rank score tag), found \(line.fields.count)")
            }
            let query = String(line.fields[0])
            let document = String(line.fields[2])
            guard Int(line.fields[3]) != nil else {
                throw TRECLines.error(source, line, "rank \"\(line.fields[3])\" is not an integer")
            }
            guard let score = Double(line.fields[4]) else {
                throw TRECLines.error(source, line, "score \"\(line.fields[4])\" is not a number")
            }
            guard !score.isNaN else {
                throw TRECLines.error(source, line, "score is NaN, which cannot be ranked")
            }
            if !named {
                name = String(line.fields[5])
                named = true
            }
            if let earlier = firstLine[query, default: [:]].updateValue(line.number, forKey: document) {
                throw TRECLines.error(
                    source, line,
                    "document \(document) is listed twice for query \(query) (first on line \(earlier)); "
                        + "trec_eval rejects duplicates")
            }
            do throws(SearchError) {
                try append(document: document, score: score, query: query)
            } catch {
                throw TRECLines.error(source, line, error.message)
            }
        }
    }

    /// Reads a TREC run file; see ``init(trecText:source:)`` for the format.
    ///
    /// - Throws: `SearchError.Code.io` when the file cannot be read,
    ///   `SearchError.Code.corruptData` for bad content, naming the file and
    ///   the line.
    public init(contentsOf url: URL) throws(SearchError) {
        try self.init(trecText: TRECLines.read(url), source: url.path)
    }

    /// The run as TREC run text, `query Q0 document rank score name` per
    /// line: queries in ``queryIDs`` order, each query's documents in
    /// ``ranking(for:)`` order with ranks 1, 2, 3, … Scores are written in
    /// the shortest form that reads back to the same `Double`.
    public func trecText() -> String {
        var text = ""
        for query in queryIDs {
            for (index, entry) in rankedEntries(for: query).enumerated() {
                text += "\(query) Q0 \(entry.document) \(index + 1) \(entry.score) \(name)\n"
            }
        }
        return text
    }

    /// Writes the run to a TREC run file, replacing it atomically.
    ///
    /// - Throws: `SearchError.Code.io` when the file cannot be written.
    public func write(to url: URL) throws(SearchError) {
        try TRECLines.write(trecText(), to: url)
    }
}
