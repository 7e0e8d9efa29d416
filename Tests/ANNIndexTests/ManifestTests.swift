import Foundation
import SearchCore
import Testing

@testable import ANNIndex

@Suite("Manifest")
struct ManifestTests {
    static func directory() -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mms-manifest-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    static func sample() -> Manifest {
        var live = LiveSet(allLive: 13)
        live.remove(0)
        live.remove(12)
        return Manifest(
            generation: 7, logGeneration: 3,
            segments: [
                .init(fileName: "seg-000001.mmsseg", count: 13, live: live),
                .init(fileName: "seg-000002.mmsseg", count: 8, live: LiveSet(allLive: 8)),
            ])
    }

    @Test("a written manifest reads back equal; a directory without one reads as nil")
    func roundTrip() throws {
        let dir = Self.directory()
        #expect(try Manifest.read(fromDirectory: dir) == nil)
        try Self.sample().write(toDirectory: dir)
        let back = try #require(try Manifest.read(fromDirectory: dir))
        #expect(back == Self.sample())
        #expect(back.segments[0].live.liveCount == 11)
        #expect(!back.segments[0].live.isLive(12) && back.segments[0].live.isLive(11))
        #expect(!FileManager.default.fileExists(atPath: dir + "/MANIFEST.tmp"))
    }

    @Test("replacing a manifest leaves the old one or the new one; a stray temporary file is ignored")
    func atomicReplace() throws {
        let dir = Self.directory()
        try Self.sample().write(toDirectory: dir)
        // A crash mid-write leaves MANIFEST.tmp half written; readers never look at it.
        try Data(Self.sample().bytes().prefix(10)).write(to: URL(fileURLWithPath: dir + "/MANIFEST.tmp"))
        #expect(try Manifest.read(fromDirectory: dir) == Self.sample())
        var next = Self.sample()
        next.generation += 1
        next.segments.removeLast()
        try next.write(toDirectory: dir)
        #expect(try Manifest.read(fromDirectory: dir) == next)
    }

    @Test("every single-byte corruption and every truncation is a typed error")
    func corruption() throws {
        let bytes = Self.sample().bytes()
        for i in 0..<bytes.count {
            var damaged = bytes
            damaged[i] ^= 0x24
            #expect(throws: SearchError.self, "byte \(i)") {
                _ = try damaged.withUnsafeBytes { (raw) throws(SearchError) in try Manifest.decode(raw, path: "m") }
            }
        }
        for cut in 0..<bytes.count {
            #expect(throws: SearchError.self, "cut \(cut)") {
                _ = try Array(bytes.prefix(cut)).withUnsafeBytes { (raw) throws(SearchError) in try Manifest.decode(raw, path: "m") }
            }
        }
    }

    @Test("segment names that could leave the directory are refused")
    func names() {
        for name in ["", "..", "a/b", "../seg"] {
            let m = Manifest(generation: 1, logGeneration: 1, segments: [.init(fileName: name, count: 1, live: LiveSet(allLive: 1))])
            #expect(throws: SearchError.self) { try m.write(toDirectory: Self.directory()) }
        }
    }
}
