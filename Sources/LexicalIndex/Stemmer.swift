import CStemmer
import SearchCore

/// A Snowball stemmer from libstemmer, for one language.
///
/// A `~Copyable` owner of the C stemmer; `deinit` frees it. The C object keeps
/// per-call state, so one value is used by one caller at a time (the analyzer
/// keeps one behind a lock).
package struct SnowballStemmer: ~Copyable {
    private let handle: OpaquePointer

    /// The stemmer for `language` (a Snowball algorithm name such as
    /// `"english"`, `"french"`, `"russian"`), in UTF-8.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/invalidArgument`` when
    ///   libstemmer has no algorithm of that name (``availableLanguages``
    ///   lists them).
    package init(language: String) throws(SearchError) {
        guard let handle = sb_stemmer_new(language, "UTF_8") else {
            throw SearchError(
                .invalidArgument,
                "libstemmer has no stemmer named '\(language)'; choose one of \(SnowballStemmer.availableLanguages.joined(separator: ", "))")
        }
        self.handle = handle
    }

    /// The algorithm names this libstemmer offers.
    package static var availableLanguages: [String] {
        var names: [String] = []
        guard var list = sb_stemmer_list() else { return names }
        while let name = list.pointee {
            names.append(String(cString: name))
            list += 1
        }
        return names
    }

    /// The stem of one lower-cased word, as UTF-8 bytes appended to `out`.
    package func stem(_ word: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        guard let base = word.baseAddress, !word.isEmpty else { return }
        guard let stemmed = sb_stemmer_stem(handle, base, Int32(word.count)) else {
            // Out of memory inside libstemmer: keep the word unstemmed.
            out.append(contentsOf: word)
            return
        }
        let length = Int(sb_stemmer_length(handle))
        out.append(contentsOf: UnsafeBufferPointer(start: stemmed, count: length))
    }

    /// The stem of `word`.
    package func stem(_ word: String) -> String {
        var bytes = Array(word.utf8)
        var out: [UInt8] = []
        bytes.withUnsafeMutableBufferPointer { stem(UnsafeBufferPointer($0), into: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    deinit {
        sb_stemmer_delete(handle)
    }
}
