import Foundation
import SearchCore

extension Qrels {
    /// Reads TREC qrels text: one judgement per line,
    ///
    ///     query iteration document relevance
    ///
    /// for example `q17 0 doc42 2`. Fields are separated by spaces or tabs;
    /// the iteration field is read but ignored (it is almost always 0);
    /// relevance is an integer, possibly negative. Blank lines are skipped.
    ///
    /// - Parameters:
    ///   - text: the file's content.
    ///   - source: what to call the input in error messages.
    /// - Throws: `SearchError.Code.corruptData` for the first bad line,
    ///   with a message naming its line number and the reason: a wrong
    ///   number of fields, a relevance that is not an integer, or a document
    ///   judged twice for one query (trec_eval refuses those too; the message
    ///   names both lines).
    public init(trecText text: String, source: String = "qrels") throws(SearchError) {
        self.init()
        var firstLine: [String: [String: Int]] = [:]
        try TRECLines.forEach(in: text) { line throws(SearchError) in
            guard line.fields.count == 4 else {
                throw TRECLines.error(
                    source, line,
                    "expected 4 fields (query iteration document relevance), found \(line.fields.count)")
            }
            let query = String(line.fields[0])
            let document = String(line.fields[2])
            guard let grade = Int(line.fields[3]) else {
                throw TRECLines.error(source, line, "relevance \"\(line.fields[3])\" is not an integer")
            }
            if let earlier = firstLine[query, default: [:]].updateValue(line.number, forKey: document) {
                throw TRECLines.error(
                    source, line, "document \(document) is judged twice for query \(query) (first on line \(earlier))")
            }
            do throws(SearchError) {
                try setGrade(grade, document: document, query: query)
            } catch {
                throw TRECLines.error(source, line, error.message)
            }
        }
    }

    /// Reads a TREC qrels file; see ``init(trecText:source:)`` for the format.
    ///
    /// - Throws: `SearchError.Code.io` when the file cannot be read,
    ///   `SearchError.Code.corruptData` for bad content, naming the file and
    ///   the line.
    public init(contentsOf url: URL) throws(SearchError) {
        try self.init(trecText: TRECLines.read(url), source: url.path)
    }

    /// The judgements as TREC qrels text, `query 0 document relevance` per
    /// line: queries in ``queryIDs`` order, documents by ascending UTF-8
    /// bytes, so the output is deterministic.
    public func trecText() -> String {
        var text = ""
        for query in queryIDs {
            guard let grades = self[query]?.grades else { continue }
            let documents = grades.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for document in documents {
                text += "\(query) 0 \(document) \(grades[document]!)\n"
            }
        }
        return text
    }

    /// Writes the judgements to a TREC qrels file, replacing it atomically.
    ///
    /// - Throws: `SearchError.Code.io` when the file cannot be written.
    public func write(to url: URL) throws(SearchError) {
        try TRECLines.write(trecText(), to: url)
    }
}
