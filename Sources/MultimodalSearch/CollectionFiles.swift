import Foundation
import SearchCore
import StoragePrimitives

/// The names in a collection's directory, and the file operations on them.
struct CollectionFiles {
    static let schemaName = "schema.json"
    static let lastRecoveryName = "last-recovery.txt"
    static let keywordsName = "keywords"
    static let calibrationName = "calibration.json"

    let directory: String

    /// The files written once per checkpoint generation: prefix, six or more digits, suffix.
    static let generationKinds = [("items-", ".snapshot"), ("engagement-", ".snapshot"), ("log-", ".wal")]

    /// The generation in `name`, when it is one of ``generationKinds``.
    static func generation(of name: String) -> UInt64? {
        for (prefix, suffix) in generationKinds where name.hasPrefix(prefix) && name.hasSuffix(suffix) {
            return UInt64(name.dropFirst(prefix.count).dropLast(suffix.count))
        }
        return nil
    }

    /// Whether `name` is one of the files a collection writes.
    static func isCollectionFile(_ name: String) -> Bool {
        [schemaName, lastRecoveryName, "vectors", keywordsName, calibrationName].contains(name) || generation(of: name) != nil
    }

    func path(_ name: String) -> String { directory + "/" + name }

    static func name(_ prefix: String, _ generation: UInt64, _ suffix: String) -> String {
        prefix + String(format: "%06llu", generation) + suffix
    }

    func createDirectory() throws(SearchError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw SearchError(.io, "cannot create \(directory): \(error)")
        }
    }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: path(name)) }

    func list() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] }

    func size(_ name: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path(name))[.size] as? Int) ?? 0
    }

    /// The largest file read whole: an item snapshot of tens of millions of items.
    static let readLimit = 1 << 36

    func read(_ name: String) throws(SearchError) -> [UInt8] {
        try SystemCalls.readFile(path(name), limit: Self.readLimit)
    }

    /// Writes `name` whole or not at all, durably (see `AtomicFile.replace`).
    func replaceAtomically(_ name: String, with bytes: [UInt8]) throws(SearchError) {
        try AtomicFile.replace(path(name), with: [bytes])
    }

    /// The generations of the files named `prefix` + six or more digits + `suffix`.
    func generations(prefix: String, suffix: String) throws(SearchError) -> [UInt64] {
        list().compactMap { name in
            guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
            return UInt64(name.dropFirst(prefix.count).dropLast(suffix.count))
        }
    }

    /// Removes item snapshots, engagement snapshots and logs of any other
    /// generation: older ones a finished checkpoint replaced, newer ones an
    /// interrupted checkpoint left before its commit point.
    func removeOtherGenerations(than generation: UInt64) throws(SearchError) {
        for name in list() {
            guard let g = Self.generation(of: name), g != generation else { continue }
            do { try FileManager.default.removeItem(atPath: path(name)) } catch {
                throw SearchError(.io, "cannot remove \(path(name)) left by an earlier checkpoint: \(error)")
            }
        }
    }
}
