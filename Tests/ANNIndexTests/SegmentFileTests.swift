import Foundation
import SearchCore
import Tensor
import Testing
import _TestSupport

@testable import ANNIndex

@Suite("Segment files")
struct SegmentFileTests {
    static func temporaryPath(_ name: String) -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mms-seg-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent(name).path
    }

    static func sample(seed: UInt64 = 1) -> SegmentWriter {
        var rng = SeededGenerator(seed: seed)
        var writer = SegmentWriter(
            header: SegmentHeader(metric: .cosine, storage: .int8, flags: [.hasOriginals], dimension: 24, count: 5, seed: 42))
        writer.add(.vectors, bytes: (0..<(5 * 24)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        writer.add(.scales, bytes: (0..<20).map { _ in UInt8.random(in: 0...255, using: &rng) })
        writer.add(.ids, bytes: (0..<40).map { UInt8($0) })
        writer.add(.graphLevel0, encoding: .lz4Blocks, bytes: [1, 2, 3])
        return writer
    }

    @Test("a written segment reopens with the same header and sections, 64-byte aligned")
    func roundTrip() throws {
        let path = Self.temporaryPath("a.mmsseg")
        let writer = Self.sample()
        try writer.write(to: path)
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
        let reader = try SegmentReader(path: path)
        #expect(reader.header == writer.header)
        #expect(reader.sections.map(\.kind) == [.vectors, .scales, .ids, .graphLevel0])
        #expect(reader.sections.allSatisfy { $0.offset % 64 == 0 })
        #expect(reader.sections.last?.encoding == .lz4Blocks)
        #expect(Array(try reader.section(.ids)) == (0..<40).map { UInt8($0) })
        #expect(try reader.section(.vectors).count == 5 * 24)
        #expect(UInt(bitPattern: try reader.section(.vectors).baseAddress) % 64 == 0)
        #expect(throws: SearchError.self) { try reader.section(.originals) }
        #expect(reader.fileSize == writer.bytes().count)
    }

    @Test("the same input gives a byte-identical file")
    func reproducible() {
        #expect(Self.sample(seed: 3).bytes() == Self.sample(seed: 3).bytes())
        #expect(Self.sample(seed: 3).bytes() != Self.sample(seed: 4).bytes())
    }

    @Test("every single-byte corruption is refused or leaves every section intact; every truncation is refused")
    func corruption() throws {
        let original = Self.sample().bytes()
        let path = Self.temporaryPath("c.mmsseg")
        let pristine = try { () throws -> [SegmentSectionKind: [UInt8]] in
            try original.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: path)) }
            let r = try SegmentReader(path: path)
            return Dictionary(uniqueKeysWithValues: try r.sections.map { ($0.kind, Array(try r.section($0.kind))) })
        }()
        var refused = 0, harmless = 0
        for i in 0..<original.count {
            var bytes = original
            bytes[i] ^= 0x5A
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                let r = try SegmentReader(path: path)
                // Only padding is outside every checksum: what opens must read the same.
                for s in r.sections { #expect(Array(try r.section(s.kind)) == pristine[s.kind], "byte \(i) changed \(s.kind)") }
                harmless += 1
            } catch {
                #expect(error.code == .corruptData || error.code == .unsupportedFormat, "byte \(i): \(error)")
                refused += 1
            }
        }
        #expect(refused + harmless == original.count)
        #expect(refused > original.count / 2, "\(refused) refused, \(harmless) in padding")
        for length in 0..<original.count {
            try Data(original.prefix(length)).write(to: URL(fileURLWithPath: path))
            #expect(throws: SearchError.self, "truncated to \(length)") { _ = try SegmentReader(path: path) }
        }
    }

    @Test("another format version is refused as unsupported, naming it")
    func unknownVersion() throws {
        var bytes = Self.sample().bytes()
        bytes[8] = 2
        let checksum = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<60])) }
        for k in 0..<4 { bytes[60 + k] = UInt8((checksum >> (8 * UInt32(k))) & 0xFF) }
        let path = Self.temporaryPath("v.mmsseg")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            _ = try SegmentReader(path: path)
            Issue.record("version 2 was accepted")
        } catch {
            #expect(error.code == .unsupportedFormat)
            #expect(error.message.contains("version 2"))
        }
    }

    @Test("deferred verification opens quickly and still finds a damaged section")
    func deferredVerification() throws {
        var bytes = Self.sample().bytes()
        let path = Self.temporaryPath("d.mmsseg")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let offset = try SegmentReader(path: path).sections[0].offset
        bytes[offset] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let reader = try SegmentReader(path: path, verification: .structure)
        #expect(throws: SearchError.self) { try reader.verifySections() }
        #expect(throws: SearchError.self) { _ = try SegmentReader(path: path) }
        #expect(throws: SearchError.self) { _ = try SegmentReader(path: Self.temporaryPath("missing.mmsseg")) }
    }
}
