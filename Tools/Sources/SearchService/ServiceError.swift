import Foundation
import Hummingbird
import SearchCore

/// An error the service answers with: an HTTP status and the JSON body
/// `{"error": {"code": …, "message": …}}`, whose code is a ``SearchCore/SearchError``
/// code in camelCase or one of the service's own.
struct ServiceError: Error, Sendable {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    /// Send `Retry-After: 1` (overload, deadline).
    var retryAfter = false

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String, retryAfter: Bool = false) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    /// The status and code of a library error.
    init(_ error: SearchError) {
        let (status, code): (HTTPResponse.Status, String) =
            switch error.code {
            case .invalidArgument: (.badRequest, "invalidArgument")
            case .dimensionMismatch: (.badRequest, "dimensionMismatch")
            case .invalidVector: (.badRequest, "invalidVector")
            case .emptyIndex: (.badRequest, "emptyIndex")
            case .duplicateID: (.badRequest, "duplicateID")
            case .notFound: (.notFound, "notFound")
            case .corruptData: (.badRequest, "corruptData")
            case .unsupportedFormat: (.badRequest, "unsupportedFormat")
            case .resourceLimit: (.contentTooLarge, "resourceLimit")
            case .cancelled: (.serviceUnavailable, "cancelled")
            case .io: (.internalServerError, "io")
            default: (.internalServerError, "internal")
            }
        self.init(status, code, error.message)
    }

    static func badRequest(_ message: String) -> ServiceError { ServiceError(.badRequest, "invalidArgument", message) }
    static func notFound(_ message: String) -> ServiceError { ServiceError(.notFound, "notFound", message) }
    static let unauthorized = ServiceError(
        .unauthorized, "unauthorized", "this route writes: send a valid key as `Authorization: Bearer KEY` or `X-API-Key: KEY`")
    static func overloaded(_ message: String) -> ServiceError {
        ServiceError(.serviceUnavailable, "overloaded", message, retryAfter: true)
    }
    static let deadlineExceeded = ServiceError(
        .serviceUnavailable, "deadlineExceeded", "the request ran past its deadline; retry later", retryAfter: true)

    /// The JSON body.
    var body: [UInt8] {
        struct Envelope: Encodable {
            struct Detail: Encodable {
                var code: String
                var message: String
            }
            var error: Detail
        }
        return Array((try? JSONEncoder().encode(Envelope(error: .init(code: code, message: message)))) ?? Data())
    }
}
