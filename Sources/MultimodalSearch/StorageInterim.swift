import Foundation
import SearchCore

// Interim: replaced by the package's storage-primitives target when it lands.
enum Storage {
    static func readAll(_ path: String) throws(SearchError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SearchError(.io, "cannot read \(path)")
        }
        return Array(data)
    }

    static func replaceAtomically(_ path: String, with bytes: [UInt8]) throws(SearchError) {
        do { try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw SearchError(.io, "cannot write \(path): \(error)")
        }
    }
}

func withRawBytes<R>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(SearchError) -> R) throws(SearchError) -> R {
    let result: Result<R, SearchError> = bytes.withUnsafeBytes { raw in
        do throws(SearchError) { return .success(try body(raw)) } catch { return .failure(error) }
    }
    return try result.get()
}
