import Foundation
import SearchCore

/// Turns text into the terms a keyword index stores and a query looks up.
///
/// The stages, in order:
/// 1. **Normalisation**: Unicode NFKC (compatibility composition: full-width
///    letters become ASCII, ligatures split, `①` becomes `1`), then lower-casing
///    by the Unicode default case mapping (what Lucene's `LowerCaseFilter` and
///    Python's `str.lower` do). ASCII text skips the normaliser: NFKC leaves it as is.
/// 2. **Segmentation** on Unicode word boundaries (UAX #29, the rules that
///    matter for search, see ``WordSegmenter``): `don't`, `e.g`, `3.14` and
///    `img_2041` stay one word, punctuation and spaces separate words.
/// 3. **CJK**: Han, Hiragana, Katakana and Hangul characters become
///    overlapping character bigrams (`東京都` → `東京`, `京都`); a lone
///    character stays a unigram. This is Lucene's `CJKBigramFilter`.
/// 4. **Diacritic folding** (optional): canonical decomposition, non-spacing
///    marks dropped (`café` → `cafe`, `Ångström` → `angstrom`).
/// 5. **Stop words** (optional): removed after folding, leaving a gap in the
///    positions, so a phrase does not match across a removed word.
/// 6. **Stemming** (optional): the Snowball stemmer of the language, through
///    libstemmer (`running` → `run` in English, `chevaux` → `cheval` in French).
///
/// ```swift
/// let analyzer = try TextAnalyzer(.init(language: "english"))
/// analyzer.terms("Brass legs, walnut top") // ["brass", "leg", "walnut", "top"]
/// ```
public struct TextAnalyzer: Sendable {
    /// What the analyzer does beyond normalisation and segmentation.
    public struct Configuration: Sendable, Hashable, Codable {
        /// The Snowball stemmer's language (`"english"`, `"french"`,
        /// `"german"`, `"spanish"`, `"russian"` …, see
        /// ``TextAnalyzer/availableLanguages``); nil for no stemming.
        public var language: String?
        /// Whether accents and other combining marks are removed.
        public var foldDiacritics: Bool
        /// Words removed before stemming (compared after lower-casing and folding).
        public var stopWords: Set<String>

        /// An analyzer configuration. The defaults stem English and keep
        /// diacritics and stop words, as `bm25s` and Lucene's `StandardAnalyzer`
        /// keep stop words unless told otherwise.
        public init(language: String? = "english", foldDiacritics: Bool = false, stopWords: Set<String> = []) {
            self.language = language
            self.foldDiacritics = foldDiacritics
            self.stopWords = stopWords
        }

        /// No stemming, no folding, no stop words: for identifiers and file names.
        public static let verbatim = Configuration(language: nil)
    }

    /// The configuration this analyzer applies.
    public let configuration: Configuration
    private let stemmer: StemmerBox?

    /// An analyzer for `configuration`.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/invalidArgument`` when the
    ///   stemmer's language is not one libstemmer has.
    public init(_ configuration: Configuration = Configuration()) throws(SearchError) {
        self.configuration = configuration
        if let language = configuration.language {
            stemmer = StemmerBox(try SnowballStemmer(language: language))
        } else {
            stemmer = nil
        }
    }

    /// Longer words (in UTF-8 bytes) are dropped, as Lucene's tokenizers cap a token at 255.
    public static let maximumWordBytes = 255

    /// The Snowball languages libstemmer offers on this machine.
    public static var availableLanguages: [String] { SnowballStemmer.availableLanguages }

    /// The terms of `text`, in order.
    public func terms(_ text: String) -> [String] {
        var out: [String] = []
        analyze(text) { term, _ in out.append(term) }
        return out
    }

    /// The terms of `text` with their positions (a removed stop word leaves a gap).
    public func tokens(_ text: String) -> [(term: String, position: Int)] {
        var out: [(term: String, position: Int)] = []
        analyze(text) { term, position in out.append((term, position)) }
        return out
    }

    /// Calls `emit` with each term of `text` and its position, in order.
    public func analyze(_ text: String, _ emit: (String, Int) -> Void) {
        var scratch = AnalysisScratch()
        analyze(text, scratch: &scratch, emit)
    }

    /// As ``analyze(_:_:)``, reusing `scratch`'s buffers across calls.
    package func analyze(_ text: String, scratch: inout AnalysisScratch, _ emit: (String, Int) -> Void) {
        scratch.codePoints.removeAll(keepingCapacity: true)
        var ascii = true
        for byte in text.utf8 where byte >= 0x80 {
            ascii = false
            break
        }
        if ascii {
            for byte in text.utf8 {
                scratch.codePoints.append(UInt32(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte))
            }
        } else {
            let normalized = text.precomposedStringWithCompatibilityMapping.lowercased()
            for scalar in normalized.unicodeScalars { scratch.codePoints.append(scalar.value) }
        }
        var position = 0
        var pendingCJK: UInt32? = nil  // the previous CJK unit, for bigrams
        var cjkRunLength = 0
        func flushLoneCJK() {
            if let lone = pendingCJK, cjkRunLength == 1 {
                scratch.word.removeAll(keepingCapacity: true)
                WordSegmenter.appendUTF8(lone, to: &scratch.word)
                emitWord(&scratch, position: &position, emit)
            }
            pendingCJK = nil
            cjkRunLength = 0
        }
        WordSegmenter.segment(scratch.codePoints) { range, isCJK in
            if isCJK {
                let unit = scratch.codePoints[range.lowerBound]
                if let previous = pendingCJK {
                    scratch.word.removeAll(keepingCapacity: true)
                    WordSegmenter.appendUTF8(previous, to: &scratch.word)
                    WordSegmenter.appendUTF8(unit, to: &scratch.word)
                    emitWord(&scratch, position: &position, emit)
                }
                pendingCJK = unit
                cjkRunLength += 1
                return
            }
            flushLoneCJK()
            scratch.word.removeAll(keepingCapacity: true)
            for i in range { WordSegmenter.appendUTF8(scratch.codePoints[i], to: &scratch.word) }
            emitWord(&scratch, position: &position, emit)
        } separator: {
            flushLoneCJK()
        }
        flushLoneCJK()
    }

    /// Folds, filters and stems the word in `scratch.word`, then emits it.
    private func emitWord(_ scratch: inout AnalysisScratch, position: inout Int, _ emit: (String, Int) -> Void) {
        guard scratch.word.count <= Self.maximumWordBytes else {
            position += 1
            return
        }
        var word = String(decoding: scratch.word, as: UTF8.self)
        if configuration.foldDiacritics, scratch.word.contains(where: { $0 >= 0x80 }) {
            word = Self.foldDiacritics(word)
        }
        if !configuration.stopWords.isEmpty, configuration.stopWords.contains(word) {
            position += 1
            return
        }
        if let stemmer {
            word = stemmer.stem(word, scratch: &scratch.stemmed)
        }
        emit(word, position)
        position += 1
    }

    /// `word` without combining marks, recomposed.
    static func foldDiacritics(_ word: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in word.decomposedStringWithCanonicalMapping.unicodeScalars
        where scalar.properties.generalCategory != .nonspacingMark {
            scalars.append(scalar)
        }
        return String(scalars).precomposedStringWithCanonicalMapping
    }
}

/// Reusable buffers for analysis.
package struct AnalysisScratch {
    var codePoints: [UInt32] = []
    var word: [UInt8] = []
    var stemmed: [UInt8] = []
    package init() {}
}

/// Stop-word lists.
public enum StopWords {
    /// Lucene's English stop set (`EnglishAnalyzer.ENGLISH_STOP_WORDS_SET`), 33 words.
    public static let english: Set<String> = [
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not",
        "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was",
        "will", "with",
    ]
}

/// One libstemmer stemmer shared by copies of an analyzer, used under a lock
/// (the C stemmer keeps state between calls).
///
/// `@unchecked Sendable` is sound: the stemmer is touched only in `stem`,
/// between `lock()` and `unlock()` of the one lock, so one thread at a time
/// uses it; both stored properties are immutable references.
final class StemmerBox: @unchecked Sendable {
    private let lock = NSLock()
    private let stemmer: SnowballStemmer

    init(_ stemmer: consuming SnowballStemmer) {
        self.stemmer = stemmer
    }

    func stem(_ word: String, scratch: inout [UInt8]) -> String {
        var word = word
        return word.withUTF8 { utf8 in
            scratch.removeAll(keepingCapacity: true)
            lock.lock()
            stemmer.stem(utf8, into: &scratch)
            lock.unlock()
            return String(decoding: scratch, as: UTF8.self)
        }
    }
}
