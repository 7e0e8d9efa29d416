import SearchCore

/// Finds the text written inside a picture (signs, labels, screenshots,
/// scanned pages), for a keyword index.
///
/// ```swift
/// let ocr = try TesseractTextExtractor(languages: ["eng"])
/// let text = try ocr.text(in: try ImageDecoder.decode(bytes))
/// ```
///
/// Implementations bound the time and memory one picture may take and say
/// what they do when a bound is hit.
public protocol ImageTextExtractor: Sendable {
    /// A name that changes whenever what the extractor finds could (engine
    /// and languages), for caches.
    var name: String { get }
    /// The text found in `image`, words separated by spaces or line breaks;
    /// empty when there is none.
    func text(in image: RGBImage) throws(SearchError) -> String
}
