/// A text field of the documents a ``LexicalIndex`` holds, with its weight and analysis.
///
/// ```swift
/// let fields: [LexicalField] = [.caption, .tags, .fileName, .pictureText,
///                               LexicalField(name: "album", weight: 0.5)]
/// ```
public struct LexicalField: Sendable, Hashable, Codable {
    /// The field's name, the key of ``LexicalIndex/add(id:fields:)``'s dictionary.
    public var name: String
    /// The factor its BM25 score is multiplied by before fields are summed.
    public var weight: Float
    /// How its text becomes terms.
    public var analyzer: TextAnalyzer.Configuration

    /// A field named `name`.
    public init(name: String, weight: Float = 1, analyzer: TextAnalyzer.Configuration = .init()) {
        self.name = name
        self.weight = weight
        self.analyzer = analyzer
    }

    /// A picture's caption or description: English stemming, weight 1.
    public static let caption = LexicalField(name: "caption")
    /// Tags or labels: English stemming, weight 1.5 (a tag is a deliberate keyword).
    public static let tags = LexicalField(name: "tags", weight: 1.5)
    /// The file name: no stemming, so partial names and numbers match as typed; weight 1.
    public static let fileName = LexicalField(name: "fileName", analyzer: .verbatim)
    /// Text found in the picture (OCR): English stemming, weight 0.5 (recognition is noisy).
    public static let pictureText = LexicalField(name: "pictureText", weight: 0.5)
}

/// The BM25 parameters, with Lucene's defaults.
///
/// Lucene's BM25 (`BM25Similarity` since Lucene 8), as `bm25s` computes it with method `"lucene"`:
///
///     idf(t)      = ln(1 + (N − n(t) + 0.5) / (n(t) + 0.5))
///     score(t, d) = idf(t) · tf / (tf + k1 · (1 − b + b · |d| / avgdl))
///
/// N is the number of documents with the field, n(t) those containing t, |d|
/// the document's field length in terms and avgdl its mean. Lucene dropped the
/// classic `(k1 + 1)` factor from the numerator (it scales every score
/// alike). Statistics include deleted documents until a merge removes them,
/// as in Lucene. Lengths are exact, not Lucene's one-byte approximation.
public struct BM25Parameters: Sendable, Hashable, Codable {
    /// Term-frequency saturation; 1.2 in Lucene, Elasticsearch and bm25s.
    public var k1: Float
    /// Length normalisation, 0 (none) to 1 (full); 0.75 in Lucene and bm25s.
    public var b: Float

    /// The parameters; the defaults are Lucene's.
    public init(k1: Float = 1.2, b: Float = 0.75) {
        self.k1 = k1
        self.b = b
    }

    /// Lucene's idf for a term in `n` of `count` documents.
    public static func idf(documentFrequency n: Int, documentCount count: Int) -> Double {
        log(1 + (Double(count) - Double(n) + 0.5) / (Double(n) + 0.5))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
