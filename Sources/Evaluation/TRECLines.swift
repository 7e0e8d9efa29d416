import Foundation
import SearchCore

/// The line and field splitting shared by the TREC qrels and run readers.
///
/// TREC files are plain text, one record per line, fields separated by
/// spaces or tabs. Lines end in `\n` (a `\r` before it is dropped); blank
/// lines are skipped. Line numbers are 1-based, as an editor shows them.
enum TRECLines {
    /// One non-blank line: its number and its fields.
    struct Line {
        var number: Int
        var fields: [Substring]
        var text: Substring
    }

    /// Calls `body` for each non-blank line of `text`.
    static func forEach(in text: String, _ body: (Line) throws(SearchError) -> Void) throws(SearchError) {
        var number = 0
        // "\r\n" is one Character in Swift, so it is a separator of its own.
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            number += 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.isEmpty { continue }
            try body(Line(number: number, fields: fields, text: line))
        }
    }

    /// A `SearchError.Code.corruptData` error that names the source, the
    /// line and the reason, and quotes the line.
    static func error(_ source: String, _ line: Line, _ reason: String) -> SearchError {
        let quoted = line.text.count > 120 ? line.text.prefix(120) + "…" : line.text
        return SearchError(.corruptData, "\(source) line \(line.number): \(reason): \"\(quoted)\"")
    }

    /// Reads a file as UTF-8 text.
    ///
    /// - Throws: `SearchError.Code.io` when the file cannot be read,
    ///   `SearchError.Code.corruptData` when it is not UTF-8.
    static func read(_ url: URL) throws(SearchError) -> String {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw SearchError(.io, "cannot read \(url.path)", underlying: error)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SearchError(.corruptData, "\(url.path) is not UTF-8 text")
        }
        return text
    }

    /// Writes `text` to `url` as UTF-8, replacing the file atomically.
    ///
    /// - Throws: `SearchError.Code.io` when the file cannot be written.
    static func write(_ text: String, to url: URL) throws(SearchError) {
        do {
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw SearchError(.io, "cannot write \(url.path)", underlying: error)
        }
    }
}
