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
        var stemmed: [UInt8] = []
        swap(&stemmed, &scratch.stemmed)
        defer { swap(&stemmed, &scratch.stemmed) }
        words(text, scratch: &scratch) { word, position in
            if termLocked(of: word, into: &stemmed) {
                emit(String(decoding: stemmed, as: UTF8.self), position)
            }
        }
    }

    /// Calls `word` with each word of `text` after normalisation and
    /// segmentation (before folding, stop words and stemming: see
    /// ``termLocked(of:into:)``) and its position, in order. The stemmer's
    /// lock is held for the whole call, so `word` may call ``termLocked(of:into:)``.
    ///
    /// A word's term depends on the word alone, so an indexer may cache it
    /// per distinct word. ASCII text is read byte by byte (NFKC leaves it as
    /// is and lower-casing is a bit); other text as normalised code points.
    package func words(_ text: String, scratch: inout AnalysisScratch, _ word: (UnsafeBufferPointer<UInt8>, Int) -> Void) {
        // One lock of the stemmer per text, not per word.
        stemmer?.lock()
        defer { stemmer?.unlock() }
        var text = text
        let asciiDone: Bool = text.withUTF8 { utf8 in
            var ascii = true
            for byte in utf8 where byte >= 0x80 {
                ascii = false
                break
            }
            guard ascii else { return false }
            scratch.bytes.removeAll(keepingCapacity: true)
            for byte in utf8 { scratch.bytes.append(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) }
            var position = 0
            scratch.bytes.withUnsafeBufferPointer { lowered in
                WordSegmenter.segment(lowered) { range, _ in
                    word(UnsafeBufferPointer(rebasing: lowered[range]), position)
                    position += 1
                } separator: {}
            }
            return true
        }
        if asciiDone { return }
        scratch.codePoints.removeAll(keepingCapacity: true)
        let normalized = text.precomposedStringWithCompatibilityMapping.lowercased()
        for scalar in normalized.unicodeScalars { scratch.codePoints.append(scalar.value) }
        var position = 0
        var pendingCJK: UInt32? = nil  // the previous CJK unit, for bigrams
        var cjkRunLength = 0
        func emitWord() {
            scratch.word.withUnsafeBufferPointer { word($0, position) }
            position += 1
        }
        func flushLoneCJK() {
            if let lone = pendingCJK, cjkRunLength == 1 {
                scratch.word.removeAll(keepingCapacity: true)
                WordSegmenter.appendUTF8(lone, to: &scratch.word)
                emitWord()
            }
            pendingCJK = nil
            cjkRunLength = 0
        }
        let codePoints = scratch.codePoints
        codePoints.withUnsafeBufferPointer { codePoints in
            WordSegmenter.segment(codePoints) { range, isCJK in
                if isCJK {
                    let unit = codePoints[range.lowerBound]
                    if let previous = pendingCJK {
                        scratch.word.removeAll(keepingCapacity: true)
                        WordSegmenter.appendUTF8(previous, to: &scratch.word)
                        WordSegmenter.appendUTF8(unit, to: &scratch.word)
                        emitWord()
                    }
                    pendingCJK = unit
                    cjkRunLength += 1
                    return
                }
                flushLoneCJK()
                scratch.word.removeAll(keepingCapacity: true)
                for i in range { WordSegmenter.appendUTF8(codePoints[i], to: &scratch.word) }
                emitWord()
            } separator: {
                flushLoneCJK()
            }
        }
        flushLoneCJK()
    }

    /// The term of one word from ``words(_:scratch:_:)``: folded, filtered
    /// and stemmed into `term` (replacing its contents). Returns false when
    /// the word yields no term (longer than ``maximumWordBytes``, or a stop
    /// word); its position is used all the same. Call only inside the
    /// `word` closure of ``words(_:scratch:_:)``, which holds the stemmer's lock.
    package func termLocked(of word: UnsafeBufferPointer<UInt8>, into term: inout [UInt8]) -> Bool {
        guard word.count <= Self.maximumWordBytes else { return false }
        var folded: [UInt8]? = nil
        if configuration.foldDiacritics, word.contains(where: { $0 >= 0x80 }) {
            folded = Array(Self.foldDiacritics(String(decoding: word, as: UTF8.self)).utf8)
        }
        func finish(_ word: UnsafeBufferPointer<UInt8>) -> Bool {
            if !configuration.stopWords.isEmpty, configuration.stopWords.contains(String(decoding: word, as: UTF8.self)) {
                return false
            }
            term.removeAll(keepingCapacity: true)
            if let stemmer {
                stemmer.stemLocked(word, into: &term)
            } else {
                term.append(contentsOf: word)
            }
            return true
        }
        if let folded { return folded.withUnsafeBufferPointer(finish) }
        return finish(word)
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
    var bytes: [UInt8] = []
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
/// `@unchecked Sendable` is sound: the stemmer is touched only by
/// `stemLocked`, which its callers run between `lock()` and `unlock()` of
/// the one lock (``TextAnalyzer`` takes it once per text), so one thread at a
/// time uses it; both stored properties are immutable references.
final class StemmerBox: @unchecked Sendable {
    private let mutex = NSLock()
    private let stemmer: SnowballStemmer

    init(_ stemmer: consuming SnowballStemmer) {
        self.stemmer = stemmer
    }

    func lock() { mutex.lock() }
    func unlock() { mutex.unlock() }

    /// The stem of `word` appended to `out`; call between ``lock()`` and ``unlock()``.
    func stemLocked(_ word: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        stemmer.stem(word, into: &out)
    }
}
