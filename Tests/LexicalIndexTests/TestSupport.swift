import Foundation
import SearchCore

@testable import LexicalIndex

/// A fresh directory under the temporary directory.
func temporaryDirectory(_ tag: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("mms-lexical-\(tag)-\(UUID().uuidString)").path
}

/// A fixture file's JSON.
func fixture(_ name: String) throws -> Any {
    guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures") else {
        throw SearchError(.notFound, "fixture \(name).json")
    }
    return try JSONSerialization.jsonObject(with: Data(contentsOf: url))
}
