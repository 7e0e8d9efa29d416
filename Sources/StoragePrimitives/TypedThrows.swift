import SearchCore

/// Calls a typed-throwing `body` with an array's bytes (`Array.withUnsafeBytes`
/// only rethrows untyped errors).
package func withRawBytes<R>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(SearchError) -> R) throws(SearchError) -> R {
    let result: Result<R, SearchError> = bytes.withUnsafeBytes { raw in
        do throws(SearchError) { return .success(try body(raw)) } catch { return .failure(error) }
    }
    return try result.get()
}
