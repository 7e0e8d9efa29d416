import SearchCore
import StoragePrimitives

/// Which segments make up a keyword index, which of their documents are
/// live, and which log continues after them: the index's single point of
/// truth, replaced atomically (written beside, flushed, renamed over, the
/// directory flushed), so a crash leaves the old generation or the new one.
///
/// **Format, version 1** (file `MANIFEST` in the index directory, little-endian):
///
/// | size | field |
/// | --- | --- |
/// | 8 | magic `MMSLXM01` |
/// | 4 | format version, 1 |
/// | 8 | generation (one more per manifest written) |
/// | 8 | log generation: `log-<n>.lxl` is replayed after the segments |
/// | 8 | the next segment number |
/// | 4 | configuration length C, then C bytes: the index's fields and BM25 parameters as JSON |
/// | 4 | segment count S |
/// | per segment | name length u16, the name (UTF-8, no `/`), document count u32, live-set length u32 and the live set (bit d % 8 of byte d / 8 set when document d is live) |
/// | 4 | CRC-32C of everything before it |
struct LexicalManifest: Sendable, Hashable {
    struct Segment: Sendable, Hashable {
        var fileName: String
        var documentCount: Int
        var live: [UInt8]
    }

    static let magic: [UInt8] = Array("MMSLXM01".utf8)
    static let fileName = "MANIFEST"

    var generation: UInt64
    var logGeneration: UInt64
    var nextSegment: UInt64
    var configuration: [UInt8]
    var segments: [Segment]

    static func logName(_ generation: UInt64) -> String { "log-\(generation).lxl" }
    static func segmentName(_ number: UInt64) -> String { "seg-\(number).lex" }

    func bytes() -> [UInt8] {
        var out = Self.magic
        LittleEndian.append(UInt32(1), to: &out)
        LittleEndian.append(generation, to: &out)
        LittleEndian.append(logGeneration, to: &out)
        LittleEndian.append(nextSegment, to: &out)
        LittleEndian.append(UInt32(configuration.count), to: &out)
        out += configuration
        LittleEndian.append(UInt32(segments.count), to: &out)
        for s in segments {
            let name = Array(s.fileName.utf8)
            LittleEndian.append(UInt16(name.count), to: &out)
            out += name
            LittleEndian.append(UInt32(s.documentCount), to: &out)
            LittleEndian.append(UInt32(s.live.count), to: &out)
            out += s.live
        }
        let crc = out.withUnsafeBytes { crc32c($0) }
        LittleEndian.append(crc, to: &out)
        return out
    }

    func write(to directory: String) throws(SearchError) {
        try AtomicFile.replace(directory + "/" + Self.fileName, with: [bytes()])
    }

    /// Reads and checks a manifest.
    init(decoding bytes: [UInt8], path: String) throws(SearchError) {
        func corrupt(_ what: String) -> SearchError {
            SearchError(.corruptData, "keyword index manifest \(path): \(what)")
        }
        guard bytes.count >= 8 + 4 + 24 + 4 + 4 + 4, bytes.prefix(8).elementsEqual(Self.magic) else {
            throw corrupt("too short or no MMSLXM01 magic")
        }
        let body = bytes.count - 4
        let crc = bytes.withUnsafeBytes { crc32c(UnsafeRawBufferPointer(rebasing: $0[0..<body])) }
        guard crc == LittleEndian.read(UInt32.self, bytes, at: body) else { throw corrupt("checksum mismatch") }
        let version = LittleEndian.read(UInt32.self, bytes, at: 8)
        guard version == 1 else {
            throw SearchError(.unsupportedFormat, "keyword index manifest \(path) has version \(version); this build reads 1")
        }
        generation = LittleEndian.read(UInt64.self, bytes, at: 12)
        logGeneration = LittleEndian.read(UInt64.self, bytes, at: 20)
        nextSegment = LittleEndian.read(UInt64.self, bytes, at: 28)
        var at = 36
        func take(_ n: Int) throws(SearchError) -> Range<Int> {
            guard n >= 0, n <= body - at else { throw corrupt("truncated at byte \(at)") }
            defer { at += n }
            return at..<(at + n)
        }
        let c = Int(LittleEndian.read(UInt32.self, bytes, at: try take(4).lowerBound))
        configuration = Array(bytes[try take(c)])
        let count = Int(LittleEndian.read(UInt32.self, bytes, at: try take(4).lowerBound))
        var segments: [Segment] = []
        for _ in 0..<min(count, body) {
            let nameLength = Int(LittleEndian.read(UInt16.self, bytes, at: try take(2).lowerBound))
            let name = String(decoding: bytes[try take(nameLength)], as: UTF8.self)
            guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else { throw corrupt("bad segment name") }
            let documents = Int(LittleEndian.read(UInt32.self, bytes, at: try take(4).lowerBound))
            let liveLength = Int(LittleEndian.read(UInt32.self, bytes, at: try take(4).lowerBound))
            guard liveLength == (documents + 7) / 8 else { throw corrupt("live set of \(name) has the wrong length") }
            segments.append(Segment(fileName: name, documentCount: documents, live: Array(bytes[try take(liveLength)])))
        }
        guard segments.count == count, at == body else { throw corrupt("trailing or missing bytes") }
        self.segments = segments
    }

    init(generation: UInt64, logGeneration: UInt64, nextSegment: UInt64, configuration: [UInt8], segments: [Segment]) {
        self.generation = generation
        self.logGeneration = logGeneration
        self.nextSegment = nextSegment
        self.configuration = configuration
        self.segments = segments
    }
}
