import Foundation

/// Reads this target's committed fixtures and the model files fetched by
/// `scripts/fetch-test-models.sh`.
enum Fixture {
    static func url(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)
            ?? Bundle.module.bundleURL.appendingPathComponent("Fixtures/\(name)")
    }

    static func bytes(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: url(name))) }

    static func floats(_ name: String) throws -> [Float] {
        let data = try Data(contentsOf: url(name))
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    struct Manifest: Decodable {
        struct Decode: Decodable {
            var file: String
            var width: Int
            var height: Int
            var exact: Bool
            var note: String
        }
        struct Resize: Decodable {
            var source: String
            var source_width: Int
            var source_height: Int
            var file: String
            var width: Int
            var height: Int
            var filter: String
        }
        struct Preprocess: Decodable {
            var source: String
            var file: String
            var row0: String
            var width: Int
            var height: Int
            var top: Int
            var left: Int
        }
        struct ClipJPEG: Decodable {
            var file: String
            var crop: String
            var width: Int
            var height: Int
            var top: Int
            var left: Int
            var note: String
        }
        var decode: [Decode]
        var resize: [Resize]
        var preprocess: [Preprocess]
        var clip_jpeg: [ClipJPEG]
    }

    static let manifest: Manifest = {
        do {
            return try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: url("manifest.json")))
        } catch {
            // The manifest is committed beside the tests; without it every case below fails loudly.
            return Manifest(decode: [], resize: [], preprocess: [], clip_jpeg: [])
        }
    }()

    /// The folder scripts/fetch-test-models.sh unpacks wheels into.
    static var modelCache: URL {
        if let path = ProcessInfo.processInfo.environment["MMS_TEST_MODELS"] { return URL(fileURLWithPath: path) }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/swift-multimodal-search/wheels")
    }
}

/// A minimal `.npy` reader: little-endian float32, C order.
enum NPY {
    static func readFloat32(_ url: URL) throws -> (shape: [Int], values: [Float]) {
        let data = try Data(contentsOf: url)
        let bytes = [UInt8](data)
        guard bytes.count > 10, bytes[0] == 0x93, String(decoding: bytes[1...5], as: UTF8.self) == "NUMPY" else {
            throw CocoaError(.fileReadCorruptFile)
        }
        let major = bytes[6]
        let headerLength = major == 1 ? Int(bytes[8]) | Int(bytes[9]) << 8 : Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        let start = major == 1 ? 10 : 12
        let header = String(decoding: bytes[start..<(start + headerLength)], as: UTF8.self)
        guard header.contains("'<f4'"), header.contains("'fortran_order': False"),
            let open = header.firstIndex(of: "("), let close = header.firstIndex(of: ")")
        else { throw CocoaError(.fileReadCorruptFile) }
        let shape = header[header.index(after: open)..<close].split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        let offset = start + headerLength
        let count = shape.reduce(1, *)
        let values = bytes[offset..<(offset + count * 4)].withUnsafeBytes { raw in
            (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        return (shape, values)
    }
}
