/// The error every product throws for bad input at its public seams.
///
/// The shape follows SwiftNIO's file-system errors: a ``Code`` that can grow
/// without breaking callers (it wraps a private enum), a message a person can
/// act on, and the underlying cause when there is one. Modules with failure
/// modes of their own (a corrupt segment, a truncated weight file) define a
/// code for them here rather than a new type, so a host catches one type.
///
/// ```swift
/// do {
///     try index.add(vector, id: 7)
/// } catch let error as SearchError where error.code == .dimensionMismatch {
///     print(error.message)
/// }
/// ```
public struct SearchError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. Compare with `==` against the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: Hashable, Sendable {
            case invalidArgument
            case dimensionMismatch
            case invalidVector
            case emptyIndex
            case duplicateID
            case notFound
            case corruptData
            case unsupportedFormat
            case io
            case resourceLimit
            case cancelled
        }

        private let kind: Kind
        private init(_ kind: Kind) { self.kind = kind }

        /// An argument is out of its documented range (k ≤ 0, a bad configuration).
        public static let invalidArgument = Code(.invalidArgument)
        /// A vector or tensor has the wrong number of components.
        public static let dimensionMismatch = Code(.dimensionMismatch)
        /// A vector holds NaN or ±Inf, or is zero where the metric needs a direction.
        public static let invalidVector = Code(.invalidVector)
        /// An operation needs at least one stored vector.
        public static let emptyIndex = Code(.emptyIndex)
        /// An identifier is already present where a new one is required.
        public static let duplicateID = Code(.duplicateID)
        /// An identifier, key or file is not there.
        public static let notFound = Code(.notFound)
        /// Stored data fails a check (magic, checksum, bounds): nothing was trusted.
        public static let corruptData = Code(.corruptData)
        /// A format version or feature this build does not read.
        public static let unsupportedFormat = Code(.unsupportedFormat)
        /// The operating system refused a file or network operation.
        public static let io = Code(.io)
        /// Input exceeds a safety limit (pixel count, header size).
        public static let resourceLimit = Code(.resourceLimit)
        /// The operation was cancelled.
        public static let cancelled = Code(.cancelled)

        public var description: String {
            switch kind {
            case .invalidArgument: "invalid argument"
            case .dimensionMismatch: "dimension mismatch"
            case .invalidVector: "invalid vector"
            case .emptyIndex: "empty index"
            case .duplicateID: "duplicate id"
            case .notFound: "not found"
            case .corruptData: "corrupt data"
            case .unsupportedFormat: "unsupported format"
            case .io: "I/O error"
            case .resourceLimit: "resource limit"
            case .cancelled: "cancelled"
            }
        }
    }

    /// What kind of failure this is.
    public var code: Code
    /// What went wrong and, where possible, what to do about it.
    public var message: String
    /// The error that caused this one, if any.
    public var underlying: (any Error & Sendable)?

    /// An error of kind `code`, with a message a person can act on and, optionally, its cause.
    public init(_ code: Code, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        if let underlying {
            return "\(code): \(message) (\(underlying))"
        }
        return "\(code): \(message)"
    }
}

extension SearchError {
    /// Throws ``Code/dimensionMismatch`` unless `actual == expected`.
    @inlinable
    public static func checkDimension(_ actual: Int, expected: Int, _ what: @autoclosure () -> String = "vector")
        throws(SearchError)
    {
        if actual != expected {
            throw SearchError(
                .dimensionMismatch, "\(what()) has \(actual) components; this index expects \(expected)")
        }
    }
}
