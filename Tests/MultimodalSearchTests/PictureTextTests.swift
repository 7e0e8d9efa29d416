import ANNIndex
import Foundation
import ImageDecoding
import SearchCore
import Testing
import _TestSupport

@testable import MultimodalSearch

/// Text inside pictures: Tesseract on pictures with known text rendered on
/// them (`scripts/fixtures/make_ocr_fixtures.py`), then found by that text.
@Suite("Text inside pictures")
struct PictureTextTests {
    static func folder() throws -> URL {
        try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil)).appendingPathComponent("ocr")
    }

    static func expected() throws -> [String: String] {
        try JSONDecoder().decode([String: String].self, from: Data(contentsOf: folder().appendingPathComponent("expected.json")))
    }

    static func words(_ text: String) -> Set<String> {
        Set(text.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map(String.init))
    }

    @Test("Tesseract reads the rendered text; pictures without text give empty text")
    func recognises() throws {
        let ocr = try TesseractTextExtractor(languages: ["eng"])
        #expect(TesseractTextExtractor.installedLanguages(dataPath: ocr.dataPath).contains("eng"))
        for (name, text) in try Self.expected() {
            let bytes = Array(try Data(contentsOf: Self.folder().appendingPathComponent(name)))
            let found = try ocr.text(in: try ImageDecoder.decode(bytes))
            if text.isEmpty {
                #expect(Self.words(found).isEmpty, "\(name): \(found)")
            } else {
                // Every rendered word is read back (case and spacing aside).
                #expect(Self.words(text).isSubset(of: Self.words(found)), "\(name): read \"\(found)\", rendered \"\(text)\"")
            }
        }
    }

    @Test("a language that is not installed, bad limits, and a picture over the pixel bound are typed errors")
    func refusals() throws {
        #expect(throws: SearchError.self) { try TesseractTextExtractor(languages: ["zzz"]) }
        #expect(throws: SearchError.self) { try TesseractTextExtractor(limits: .init(maxPixels: 0)) }
        let small = try TesseractTextExtractor(languages: ["eng"], limits: .init(maxPixels: 100))
        let picture = try RGBImage(width: 20, height: 20, pixels: [UInt8](repeating: 255, count: 1200))
        do {
            _ = try small.text(in: picture)
            Issue.record("a 400-pixel picture passed a 100-pixel bound")
        } catch {
            #expect(error.code == .resourceLimit)
        }
    }

    @Test("recognition past the deadline fails with .resourceLimit saying it timed out, not with partial text")
    func deadline() throws {
        // Many lines of text: Tesseract checks the deadline between words, and there are hundreds.
        let label = try ImageDecoder.decode(Array(try Data(contentsOf: Self.folder().appendingPathComponent("label.png"))))
        let tilesX = 3, tilesY = 8
        var pixels = [UInt8](repeating: 255, count: label.width * tilesX * label.height * tilesY * 3)
        let rowBytes = label.width * tilesX * 3
        for ty in 0..<tilesY {
            for tx in 0..<tilesX {
                for y in 0..<label.height {
                    let from = y * label.width * 3
                    let to = (ty * label.height + y) * rowBytes + tx * label.width * 3
                    pixels.replaceSubrange(to..<(to + label.width * 3), with: label.pixels[from..<(from + label.width * 3)])
                }
            }
        }
        let big = try RGBImage(width: label.width * tilesX, height: label.height * tilesY, pixels: pixels)
        let hurried = try TesseractTextExtractor(languages: ["eng"], limits: .init(deadline: .milliseconds(1)))
        do {
            let text = try hurried.text(in: big)
            Issue.record("recognition of \(big.width)×\(big.height) finished within 1 ms: \(text.prefix(40))")
        } catch {
            #expect(error.code == .resourceLimit && error.message.contains("timed out"), "\(error)")
        }
        // The same extractor (its instance back in the pool) still works within a sane deadline.
        let relaxed = try TesseractTextExtractor(languages: ["eng"])
        #expect(Self.words(try relaxed.text(in: label)).contains("walnut"))
    }

    @Test("with an extractor, ingest indexes each picture's text in the keyword field and a search finds it by that text")
    func ingestFindsByPictureText() throws {
        let expected = try Self.expected()
        let names = expected.keys.sorted()
        let keywords = FakeKeywordIndex()
        var configuration = SearchEngine.Configuration(
            textEncoder: HashingTextEncoder(dimension: 32), textEncoderName: "hashing:32",
            makeIndex: { f throws(SearchError) in FlatIndex(dimension: f.dimension, metric: f.metric) })
        configuration.makeKeywordIndex = { () throws(SearchError) -> any KeywordRetriever in keywords }
        configuration.imageTextExtractor = try TesseractTextExtractor(languages: ["eng"])
        let engine = try SearchEngine(configuration: configuration)
        // Captions say nothing of the text: only the picture holds it.
        let items = try names.enumerated().map { i, name in
            CatalogItem(id: VectorID(UInt64(i + 1)), caption: "photo number \(i + 1)", image: .file(try Self.folder().appendingPathComponent(name).path))
        }
        let report = try engine.ingest(items)
        #expect(report.indexed.count == names.count && report.pictureTextErrors.isEmpty)
        for (i, name) in names.enumerated() {
            let text = expected[name]!
            guard !text.isEmpty else {
                #expect(report.pictureText[VectorID(UInt64(i + 1))] == nil, "\(name)")
                continue
            }
            let results = try engine.search(SearchQuery(text: text.lowercased(), k: 1))
            let top = try #require(results.first, "\(name)")
            #expect(top.id == VectorID(UInt64(i + 1)), "\(name): \(text) found \(top.id)")
            #expect(top.matchedTerms[KeywordField.pictureText]?.isEmpty == false, "\(name)")
        }
    }
}
