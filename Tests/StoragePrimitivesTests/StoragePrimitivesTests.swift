import Foundation
import SearchCore
import Testing

@testable import StoragePrimitives

@Suite("Storage primitives")
struct StoragePrimitivesTests {
    static func folder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mms-storage-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("little-endian coding puts the least significant byte first and reads back at any offset")
    func littleEndian() {
        var bytes: [UInt8] = [0xAA]
        LittleEndian.append(UInt32(0x0102_0304), to: &bytes)
        LittleEndian.append(UInt64(0x1122_3344_5566_7788), to: &bytes)
        LittleEndian.append(Int16(-2), to: &bytes)
        #expect(Array(bytes[1..<5]) == [0x04, 0x03, 0x02, 0x01])
        #expect(LittleEndian.read(UInt32.self, bytes, at: 1) == 0x0102_0304)
        #expect(LittleEndian.read(UInt64.self, bytes, at: 5) == 0x1122_3344_5566_7788)
        #expect(LittleEndian.read(Int16.self, bytes, at: 13) == -2)
        var buffer = [UInt8](repeating: 0, count: 7)
        buffer.withUnsafeMutableBytes { LittleEndian.store(UInt32(0xDEAD_BEEF), into: $0, at: 3) }
        #expect(buffer == [0, 0, 0, 0xEF, 0xBE, 0xAD, 0xDE])
    }

    @Test("atomic replace writes the whole new content and leaves no temporary file; a failure removes its temporary")
    func atomicReplace() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/file"
        try AtomicFile.replace(path, with: [[1, 2], [3]])
        try AtomicFile.replace(path, with: [[4, 5, 6], [], [7]])
        #expect(try SystemCalls.readFile(path, limit: 100) == [4, 5, 6, 7])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["file"])
        // Renaming onto a directory fails after the temporary was written: it must be gone.
        try FileManager.default.createDirectory(atPath: dir + "/occupied/inside", withIntermediateDirectories: true)
        #expect(throws: SearchError.self) { try AtomicFile.replace(dir + "/occupied", with: [[1]]) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["file", "occupied"])
        // A directory that does not exist: a typed error, nothing created.
        #expect(throws: SearchError.self) { try AtomicFile.replace(dir + "/missing/file", with: [[1]]) }
    }

    @Test("reading a whole file honours the limit; a missing file is .notFound")
    func readFile() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try AtomicFile.replace(dir + "/f", with: [Array(0..<200)])
        #expect(try SystemCalls.readFile(dir + "/f", limit: 200).count == 200)
        do {
            _ = try SystemCalls.readFile(dir + "/f", limit: 199)
            Issue.record("read over the limit")
        } catch {
            #expect(error.code == .resourceLimit)
        }
        do {
            _ = try SystemCalls.readFile(dir + "/none", limit: 10)
            Issue.record("read a missing file")
        } catch {
            #expect(error.code == .notFound)
            #expect(error.message.contains(dir + "/none"))
        }
    }

    @Test("a mapped file shows the file's bytes; empty files, directories and missing files are handled")
    func mappedFile() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try AtomicFile.replace(dir + "/f", with: [Array(repeating: 7, count: 10_000)])
        let mapping = try MappedFile(path: dir + "/f")
        #expect(mapping.count == 10_000)
        #expect(mapping.bytes.allSatisfy { $0 == 7 })
        mapping.willNeed(0..<10_000)
        mapping.randomAccess(100..<9_000)
        #expect(mapping.withUnsafeBytes { $0[9_999] } == 7)
        try AtomicFile.replace(dir + "/empty", with: [])
        #expect(try MappedFile(path: dir + "/empty").count == 0)
        #expect(throws: SearchError.self) { _ = try MappedFile(path: dir) }
        do {
            _ = try MappedFile(path: dir + "/none")
            Issue.record("mapped a missing file")
        } catch {
            #expect(error.code == .notFound)
        }
    }

    @Test("durable appends land at their offsets; truncation cuts the file")
    func appendFile() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/log"
        try AtomicFile.replace(path, with: [[9, 9]])
        do {
            let file = try AppendFile(path: path)
            try file.write([1, 2, 3], at: 2)
            try file.flush()
            try file.truncate(to: 4)
        }
        #expect(try SystemCalls.readFile(path, limit: 100) == [9, 9, 1, 2])
        #expect(throws: SearchError.self) { _ = try AppendFile(path: dir + "/none") }
    }
}
