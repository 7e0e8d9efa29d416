import SearchCore

/// Calls a typed-throwing `body` with an array's elements (`withUnsafeBufferPointer`
/// only rethrows untyped errors).
func withRawFloats<R>(_ values: [Float], _ body: (UnsafeBufferPointer<Float>) throws(SearchError) -> R) throws(SearchError) -> R {
    let result: Result<R, SearchError> = values.withUnsafeBufferPointer { buffer in
        do throws(SearchError) { return .success(try body(buffer)) } catch { return .failure(error) }
    }
    return try result.get()
}
