import CTesseract
import Foundation
import SearchCore
import Synchronization

/// Text inside pictures by Tesseract 5 (the LSTM engine), through its C API.
///
/// **Bounds per picture.**
/// - *Memory*: a picture of more than ``Limits/maxPixels`` pixels (default
///   16,777,216, 4096 × 4096) is refused with `.resourceLimit` before
///   Tesseract sees it. Below that, what one picture costs is a one-byte
///   grey copy (width × height bytes) plus Tesseract's own working images,
///   a small multiple of that (binarised and scaled copies), plus the loaded
///   language models (about 15 MB for `eng`), once per concurrent picture.
/// - *Time*: recognition stops at ``Limits/deadline`` (default 10 s) through
///   Tesseract's progress monitor, and the picture fails with a typed error,
///   `.resourceLimit`, whose message says it timed out — never a partial text
///   passed off as the picture's whole text.
///
/// Languages come from the installed `*.traineddata` files
/// (``installedLanguages(dataPath:)``); Debian's `tesseract-ocr-eng` installs
/// `eng` in `/usr/share/tesseract-ocr/5/tessdata`.
///
/// ```swift
/// let ocr = try TesseractTextExtractor(languages: ["eng"])
/// let text = try ocr.text(in: try ImageDecoder.decode(bytes))   // "OPEN 24 HOURS"
/// ```
///
/// Thread-safe: each call takes an initialised Tesseract instance from a
/// pool (creating one when all are busy), so pictures are read in parallel.
public final class TesseractTextExtractor: ImageTextExtractor {
    /// What one picture may cost.
    public struct Limits: Sendable, Hashable {
        /// The most pixels a picture may have; larger ones are refused.
        public var maxPixels: Int
        /// How long recognising one picture may take.
        public var deadline: Duration

        /// Limits; the defaults are 4096 × 4096 pixels and 10 seconds.
        public init(maxPixels: Int = 4096 * 4096, deadline: Duration = .seconds(10)) {
            self.maxPixels = maxPixels
            self.deadline = deadline
        }
    }

    /// The languages recognised, as Tesseract names them (`eng`, `deu`, ...).
    public let languages: [String]
    /// The folder of `*.traineddata` files.
    public let dataPath: String
    /// The per-picture bounds.
    public let limits: Limits
    public var name: String { "tesseract-\(Self.version):" + languages.joined(separator: "+") }

    /// One Tesseract instance.
    ///
    /// `@unchecked Sendable` is sound because an instance is only ever in
    /// one place: in ``pool`` (behind its lock, touched by nobody) or taken
    /// out by exactly one call of ``text(in:)``, which returns it when done;
    /// so no instance is used by two threads at once. `deinit` frees the
    /// idle ones, and by then no call is running.
    private struct Instance: @unchecked Sendable {
        let handle: OpaquePointer
    }

    /// Idle instances, initialised for ``languages``.
    private let pool = Mutex<[Instance]>([])

    /// The folders searched for traineddata when none is given: `TESSDATA_PREFIX`,
    /// then Debian's and other common install locations.
    public static var defaultDataPaths: [String] {
        var paths: [String] = []
        if let prefix = ProcessInfo.processInfo.environment["TESSDATA_PREFIX"] { paths += [prefix, prefix + "/tessdata"] }
        paths += [
            "/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata", "/usr/share/tessdata",
            "/usr/local/share/tessdata", "/opt/homebrew/share/tessdata",
        ]
        return paths
    }

    /// The Tesseract library's version.
    public static var version: String { String(cString: TessVersion()) }

    /// The languages whose traineddata is installed in `dataPath` (sorted;
    /// `osd`, the orientation model, is not a language and is left out).
    public static func installedLanguages(dataPath: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dataPath)) ?? []
        return names.filter { $0.hasSuffix(".traineddata") }.map { String($0.dropLast(".traineddata".count)) }
            .filter { $0 != "osd" }.sorted()
    }

    /// An extractor for `languages` (all installed ones when nil).
    ///
    /// - Throws: ``SearchCore/SearchError`` `.notFound` when no traineddata
    ///   folder is found or a language is not installed (the message lists
    ///   what is and how to install more); `.invalidArgument` for bad limits;
    ///   `.io` when Tesseract cannot load the models.
    public init(languages: [String]? = nil, dataPath: String? = nil, limits: Limits = Limits()) throws(SearchError) {
        guard limits.maxPixels > 0, limits.deadline > .zero else {
            throw SearchError(.invalidArgument, "OCR limits must be positive: maxPixels \(limits.maxPixels), deadline \(limits.deadline)")
        }
        let folder = dataPath ?? Self.defaultDataPaths.first { !Self.installedLanguages(dataPath: $0).isEmpty }
        guard let folder else {
            throw SearchError(
                .notFound,
                "no Tesseract language data found in \(Self.defaultDataPaths.joined(separator: ", ")); install it (Debian: apt-get install tesseract-ocr-eng) or set TESSDATA_PREFIX"
            )
        }
        let installed = Self.installedLanguages(dataPath: folder)
        let wanted = languages ?? installed
        guard !wanted.isEmpty else { throw SearchError(.notFound, "no Tesseract languages are installed in \(folder)") }
        for language in wanted where !installed.contains(language) {
            throw SearchError(
                .notFound,
                "Tesseract language \"\(language)\" is not installed in \(folder) (installed: \(installed.joined(separator: ", "))); on Debian: apt-get install tesseract-ocr-\(language)"
            )
        }
        self.languages = wanted
        self.dataPath = folder
        self.limits = limits
        let first = try makeInstance()  // fail now, not at the first picture
        pool.withLock { $0.append(first) }
    }

    deinit {
        for instance in pool.withLock({ $0 }) {
            TessBaseAPIEnd(instance.handle)
            TessBaseAPIDelete(instance.handle)
        }
    }

    private func makeInstance() throws(SearchError) -> Instance {
        guard let handle = TessBaseAPICreate() else { throw SearchError(.resourceLimit, "Tesseract could not allocate an instance") }
        let status = TessBaseAPIInit3(handle, dataPath, languages.joined(separator: "+"))
        guard status == 0 else {
            TessBaseAPIDelete(handle)
            throw SearchError(.io, "Tesseract could not load \(languages.joined(separator: "+")) from \(dataPath) (status \(status))")
        }
        // Diagnostics ("Invalid resolution 0 dpi" and the like) are not the caller's output.
        _ = TessBaseAPISetVariable(handle, "debug_file", "/dev/null")
        TessBaseAPISetPageSegMode(handle, PSM_AUTO)
        return Instance(handle: handle)
    }

    /// The text Tesseract finds in `image`, whitespace runs collapsed to one
    /// space and trimmed; empty when there is none.
    ///
    /// - Throws: ``SearchCore/SearchError`` `.resourceLimit` for a picture
    ///   larger than ``Limits/maxPixels`` or one whose recognition passed
    ///   ``Limits/deadline``; `.io` when Tesseract fails otherwise.
    public func text(in image: RGBImage) throws(SearchError) -> String {
        let pixels = image.width * image.height
        guard pixels <= limits.maxPixels else {
            throw SearchError(
                .resourceLimit,
                "a \(image.width)×\(image.height) picture has \(pixels) pixels; text extraction takes at most \(limits.maxPixels)")
        }
        let idle = pool.withLock { $0.popLast() }
        let instance: Instance
        if let idle { instance = idle } else { instance = try makeInstance() }
        let handle = instance.handle
        defer {
            TessBaseAPIClear(handle)
            pool.withLock { $0.append(instance) }
        }
        // One grey byte per pixel (ITU-R BT.601 luma, as Leptonica converts).
        var grey = [UInt8](repeating: 0, count: pixels)
        image.pixels.withUnsafeBufferPointer { rgb in
            for i in 0..<pixels {
                let luma = 299 * Int(rgb[3 * i]) + 587 * Int(rgb[3 * i + 1]) + 114 * Int(rgb[3 * i + 2])
                grey[i] = UInt8((luma + 500) / 1000)
            }
        }
        let milliseconds = limits.deadline.components.seconds * 1000 + limits.deadline.components.attoseconds / 1_000_000_000_000_000
        guard let monitor = TessMonitorCreate() else { throw SearchError(.resourceLimit, "Tesseract could not allocate a monitor") }
        defer { TessMonitorDelete(monitor) }
        TessMonitorSetDeadlineMSecs(monitor, Int32(clamping: milliseconds))
        let start = ContinuousClock.now
        let status = grey.withUnsafeBufferPointer { g in
            TessBaseAPISetImage(handle, g.baseAddress, Int32(image.width), Int32(image.height), 1, Int32(image.width))
            TessBaseAPISetSourceResolution(handle, 300)
            return TessBaseAPIRecognize(handle, monitor)
        }
        let elapsed = ContinuousClock.now - start
        guard status == 0 else {
            if elapsed >= limits.deadline {
                throw SearchError(.resourceLimit, "text extraction timed out after \(elapsed) (deadline \(limits.deadline))")
            }
            throw SearchError(.io, "Tesseract could not recognise the picture (status \(status))")
        }
        guard let raw = TessBaseAPIGetUTF8Text(handle) else { return "" }
        defer { TessDeleteText(raw) }
        return String(cString: raw).split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}
