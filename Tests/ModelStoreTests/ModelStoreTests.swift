import Foundation
import SearchCore
import Testing
import _TestSupport

@testable import ModelStore

@Suite("SHA-256")
struct SHA256Tests {
    @Test("the FIPS 180-4 test vectors")
    func vectors() {
        #expect(SHA256.hash(Array("".utf8)).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hash(Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)).hex
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var million = SHA256()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { million.update(chunk) }
        #expect(million.finalize().hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("feeding in odd-sized pieces gives the same digest")
    func incremental() {
        var rng = SeededGenerator(seed: 5)
        let data = (0..<10_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        var pieces = SHA256()
        var i = 0
        for size in [1, 63, 64, 65, 127, 1000, 3] {
            pieces.update(data[i..<min(i + size, data.count)])
            i = min(i + size, data.count)
        }
        pieces.update(data[i...])
        #expect(pieces.finalize() == SHA256.hash(data))
    }
}

@Suite("Model store against a server on 127.0.0.1", .serialized)
struct ModelStoreTests {
    static let repository = "acme/tiny-model"

    static func payload(_ count: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    static func temporaryCache() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("mms-model-store-\(UUID().uuidString)")
    }

    let config = Array(#"{"hidden_size": 8}"#.utf8)
    let weights = ModelStoreTests.payload(300_000, seed: 1)

    func server() throws -> LocalHTTPServer {
        try LocalHTTPServer(files: [
            "/\(Self.repository)/resolve/main/config.json": config,
            "/\(Self.repository)/resolve/main/model.safetensors": weights,
        ])
    }

    var files: [ModelFile] {
        [ModelFile("config.json"), ModelFile("model.safetensors", sha256: SHA256.hash(weights).hex)]
    }

    @Test("files land in the cache, verified, and a second fetch asks the server nothing")
    func downloadAndCache() async throws {
        let server = try server()
        defer { server.stop() }
        let cache = Self.temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache) }
        let store = ModelStore(cacheDirectory: cache, endpoint: server.baseURL, isOffline: false, token: "secret")
        let folder = try await store.fetch(Self.repository, files: files)
        #expect(folder.path.hasSuffix("acme--tiny-model/main"))
        #expect(try Data(contentsOf: folder.appendingPathComponent("model.safetensors")) == Data(weights))
        #expect(try Data(contentsOf: folder.appendingPathComponent("config.json")) == Data(config))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors.part").path))
        #expect(server.requests.count == 2)
        #expect(server.requests.allSatisfy { $0.authorization == "Bearer secret" })
        _ = try await store.fetch(Self.repository, files: files)
        #expect(server.requests.count == 2, "a cached, verified file is not downloaded again")
    }

    @Test("offline, the cache serves and a missing file is an error that says offline")
    func offline() async throws {
        let server = try server()
        let cache = Self.temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache) }
        _ = try await ModelStore(cacheDirectory: cache, endpoint: server.baseURL, isOffline: false).fetch(Self.repository, files: files)
        server.stop()
        let offline = ModelStore(cacheDirectory: cache, endpoint: server.baseURL, isOffline: true)
        let folder = try await offline.fetch(Self.repository, files: files)
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("config.json").path))
        do {
            _ = try await offline.fetch(Self.repository, files: [ModelFile("tokenizer.json")])
            Issue.record("a missing file was served offline")
        } catch {
            #expect(error.code == .notFound)
            #expect(error.message.contains("offline"))
        }
    }

    @Test("an interrupted download resumes with a Range request within one call")
    func resumeWithinCall() async throws {
        let server = try server()
        defer { server.stop() }
        server.cut("/\(Self.repository)/resolve/main/model.safetensors", after: 100_000)
        let cache = Self.temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache) }
        let store = ModelStore(cacheDirectory: cache, endpoint: server.baseURL, isOffline: false, retries: 3)
        let folder = try await store.fetch(Self.repository, files: files)
        #expect(try Data(contentsOf: folder.appendingPathComponent("model.safetensors")) == Data(weights))
        let weightRequests = server.requests.filter { $0.path.hasSuffix("model.safetensors") }
        #expect(weightRequests.map(\.range) == [nil, 100_000])
    }

    @Test("a download interrupted in one call resumes in the next")
    func resumeAcrossCalls() async throws {
        let server = try server()
        defer { server.stop() }
        server.cut("/\(Self.repository)/resolve/main/model.safetensors", after: 120_000)
        let cache = Self.temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache) }
        let impatient = ModelStore(cacheDirectory: cache, endpoint: server.baseURL, isOffline: false, retries: 0)
        do {
            _ = try await impatient.fetch(Self.repository, files: files)
            Issue.record("a cut download succeeded")
        } catch {
            #expect(error.code == .io)
        }
        let partial = try impatient.folder(for: Self.repository).appendingPathComponent("model.safetensors.part")
        let partialSize = try FileManager.default.attributesOfItem(atPath: partial.path)[.size] as? Int
        #expect(partialSize == 120_000)
        _ = try await impatient.fetch(Self.repository, files: files)
        #expect(server.requests.last?.range == 120_000)
        let folder = try impatient.folder(for: Self.repository)
        #expect(try Data(contentsOf: folder.appendingPathComponent("model.safetensors")) == Data(weights))
    }

    @Test("a server that ignores Range restarts the file and the result is still right")
    func ignoredRange() async throws {
        let server = try server()
        defer { server.stop() }
        server.cut("/\(Self.repository)/resolve/main/model.safetensors", after: 50_000)
        server.ignoreRanges()
        let cache = Self.temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache) }
        let folder = try await ModelStore(cacheDirectory: cache, endpoint: server.baseURL, isOffline: false).fetch(Self.repository, files: files)
        #expect(try Data(contentsOf: folder.appendingPathComponent("model.safetensors")) == Data(weights))
    }

    @Test("a checksum mismatch discards the download and throws")
    func checksumMismatch() async throws {
        let server = try server()
        defer { server.stop() }
        let cache = Self.temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache) }
        let store = ModelStore(cacheDirectory: cache, endpoint: server.baseURL, isOffline: false)
        let wrong = [ModelFile("model.safetensors", sha256: String(repeating: "0", count: 64))]
        do {
            _ = try await store.fetch(Self.repository, files: wrong)
            Issue.record("a file with the wrong checksum was accepted")
        } catch {
            #expect(error.code == .corruptData)
            #expect(error.message.contains(SHA256.hash(weights).hex))
        }
        let folder = try store.folder(for: Self.repository)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors").path))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors.part").path))
    }

    @Test("a file the server lacks is notFound; paths that could escape the cache are refused")
    func badRequests() async throws {
        let server = try server()
        defer { server.stop() }
        let cache = Self.temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache) }
        let store = ModelStore(cacheDirectory: cache, endpoint: server.baseURL, isOffline: false)
        await #expect(throws: SearchError.self) { _ = try await store.fetch(Self.repository, files: [ModelFile("missing.bin")]) }
        do {
            _ = try await store.fetch(Self.repository, files: [ModelFile("missing.bin")])
        } catch {
            #expect(error.code == .notFound)
        }
        for (repository, path) in [("acme/../etc", "x"), ("acme/model", "../../etc/passwd"), ("/abs", "x"), ("acme/model", "/etc/passwd")] {
            do {
                _ = try await store.fetch(repository, files: [ModelFile(path)])
                Issue.record("\(repository) \(path) was accepted")
            } catch {
                #expect(error.code == .invalidArgument, "\(repository) \(path)")
            }
        }
        #expect(server.requests.filter { $0.path.contains("..") }.isEmpty)
    }
}
