import Encoders
import Foundation
import SearchCore
import Tensor
import Testing
import _TestSupport

/// The safetensors reader against well-formed, truncated, oversized and hostile files.
@Suite("Safetensors")
struct SafetensorsTests {
    /// A file from a header text and a data section, the length prefix little-endian.
    static func file(header: String, data: [UInt8] = [], claimedLength: UInt64? = nil) -> [UInt8] {
        let h = Array(header.utf8)
        let n = claimedLength ?? UInt64(h.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) } + h + data
    }

    static func parse(_ bytes: [UInt8]) throws -> SafetensorsHeader {
        try bytes.withUnsafeBytes { try SafetensorsHeader(parsing: $0) }
    }

    static func code(_ bytes: [UInt8]) -> SearchError.Code? {
        do {
            _ = try parse(bytes)
            return nil
        } catch let error as SearchError {
            return error.code
        } catch {
            return nil
        }
    }

    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("mms-\(UUID().uuidString)-\(name)").path
    }

    @Test("a written file reads back: shapes, values, metadata, 8-byte aligned data")
    func roundTrip() throws {
        let a = try Tensor<Float>(shape: [2, 3], scalars: [1, -2, 3.5, 0, .infinity, -0.0])
        let b = try Tensor<Float>(shape: [], scalars: [42])
        let path = Self.temporaryPath("roundtrip.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafetensorsFile.write(["a": a, "b": b], metadata: ["format": "pt"], to: path)
        let file = try SafetensorsFile(path: path)
        #expect(file.header.names == ["a", "b"])
        #expect(file.header.metadata == ["format": "pt"])
        #expect(file.header.dataOffset % 8 == 0)
        #expect(try file.floats("a") == a)
        #expect(try file.floats("b").scalars == [42])
        try file.withUnsafeBytes(of: "a") { info, bytes in
            #expect(info.dtype == .float32 && info.shape == [2, 3] && bytes.count == 24)
        }
        #expect(throws: SearchError.self) { _ = try file.floats("missing") }
    }

    @Test("F16 and BF16 convert exactly; integer dtypes are validated but not read as weights")
    func dtypes() throws {
        // 1.5 in F16 is 0x3E00; -2 in BF16 is 0xC000; 7 as I64.
        let header = """
            {"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]},\
            "i":{"dtype":"I64","shape":[1],"data_offsets":[6,14]}}
            """
        let data: [UInt8] = [0x00, 0x3E, 0x00, 0x3C, 0x00, 0xC0, 7, 0, 0, 0, 0, 0, 0, 0]
        let path = Self.temporaryPath("dtypes.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(Self.file(header: header, data: data)).write(to: URL(fileURLWithPath: path))
        let file = try SafetensorsFile(path: path)
        #expect(try file.floats("h").scalars == [1.5, 1])
        #expect(try file.floats("b").scalars == [-2])
        #expect {
            _ = try file.floats("i")
        } throws: { ($0 as? SearchError)?.code == .unsupportedFormat }
    }

    @Test("truncated files: every prefix of a valid file is a typed error")
    func truncated() throws {
        let valid = SafetensorsFile.serialize([
            "w": try Tensor<Float>(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6]), "b": Tensor<Float>(shape: [2]),
        ])
        _ = try Self.parse(valid)
        for length in 0..<valid.count {
            let code = Self.code(Array(valid.prefix(length)))
            #expect(code == .corruptData, "prefix of \(length) bytes gave \(String(describing: code))")
        }
        let path = Self.temporaryPath("truncated.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(valid.dropLast(5)).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try SafetensorsFile(path: path)
        } throws: { error in
            guard let e = error as? SearchError else { return false }
            return e.code == .corruptData && e.message.contains(path) && e.message.contains("truncated")
        }
        try Data().write(to: URL(fileURLWithPath: path))
        #expect { _ = try SafetensorsFile(path: path) } throws: { ($0 as? SearchError)?.code == .corruptData }
    }

    @Test("oversized: a header length past the cap or past the file is refused before any allocation")
    func oversized() {
        #expect(Self.code(Self.file(header: "{}", claimedLength: UInt64.max)) == .resourceLimit)
        #expect(Self.code(Self.file(header: "{}", claimedLength: 100_000_001)) == .resourceLimit)
        #expect(Self.code(Self.file(header: "{}", claimedLength: 1 << 20)) == .corruptData)
    }

    @Test("malformed headers are corrupt data, each with a reason")
    func malformed() {
        let cases: [(String, [UInt8])] = [
            ("not JSON", []), ("[1, 2]", []), ("{\"a\": 1}", []), ("{\"a\":{\"dtype\":\"F32\"}}", []),
            ("{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,4]}}", [0, 0, 0, 0]),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", [0, 0, 0, 0]),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", [0, 0, 0, 0]),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,4]}}", [0, 0, 0, 0]),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", [0, 0, 0, 0]),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", [0, 0, 0, 0]),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
             [UInt8](repeating: 0, count: 8)),
            // overlap
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
             [UInt8](repeating: 0, count: 8)),
            // hole
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", [UInt8](repeating: 0, count: 8)),
            // trailing bytes
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", [UInt8](repeating: 0, count: 8)),
            // past the end of the file
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", [UInt8](repeating: 0, count: 8)),
            ("{\"__metadata__\":{\"k\":1}}", []),
            ("{\"a\":" + String(repeating: "[", count: 100_000) + "}", []),
            ("{\"not an object\":1}", []),
            ("{} trailing", []),
            ("{\"a\":\"\\ud800\"}", []),
        ]
        for (header, data) in cases {
            #expect(Self.code(Self.file(header: header, data: data)) == .corruptData, "\(header.prefix(80))")
        }
        var invalidUTF8 = Self.file(header: "{\"ab\":{}}")
        invalidUTF8[10] = 0xFF
        #expect(Self.code(invalidUTF8) == .corruptData)
    }

    @Test("seeded random corruption of a valid file never traps: parse or a typed error")
    func randomCorruption() throws {
        var rng = SeededGenerator(seed: 20261127)
        let valid = SafetensorsFile.serialize([
            "encoder.layer.0.weight": Tensor<Float>(shape: [4, 3]), "encoder.layer.0.bias": Tensor<Float>(shape: [4]),
        ], metadata: ["format": "pt"])
        var accepted = 0
        for _ in 0..<3000 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let i = Int.random(in: 0..<min(bytes.count, 200), using: &rng)
                bytes[i] = UInt8.random(in: 0...255, using: &rng)
            }
            if Self.code(bytes) == nil { accepted += 1 }
        }
        #expect(accepted < 3000)
    }
}
