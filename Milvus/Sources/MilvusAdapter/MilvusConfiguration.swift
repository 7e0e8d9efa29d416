import Foundation
import SearchCore

/// Where a Milvus server is and how to talk to it.
///
/// ```swift
/// var configuration = try MilvusConfiguration(uri: "http://127.0.0.1:19530")
/// configuration.deadline = .seconds(5)
/// ```
public struct MilvusConfiguration: Sendable, Hashable {
    /// The server's host name or IPv4/IPv6 address.
    public var host: String
    /// The server's gRPC port (Milvus's default is 19530).
    public var port: Int
    /// The database holding the collection; `nil` is Milvus's `default`.
    public var database: String?
    /// A token sent as the `authorization` header (`user:password`, or an
    /// API key of a managed cluster); `nil` sends none. The transport is plain
    /// text: use it only on a trusted network.
    public var token: String?
    /// How long one call may take before it fails with ``SearchError/Code/io``.
    public var deadline: Duration = .seconds(30)
    /// How long opening a collection waits for the server to load it into
    /// memory (segments onto query nodes, on a cluster).
    public var loadDeadline: Duration = .seconds(120)
    /// How many times a call that failed because the server was unreachable is
    /// sent again (after 0.2 s, 0.4 s, …) while the transport reconnects. Only
    /// idempotent calls are retried: searches, queries, upserts and deletes.
    public var retries: Int = 3

    /// A server at `host:port`.
    public init(host: String, port: Int = 19530, database: String? = nil, token: String? = nil) {
        self.host = host
        self.port = port
        self.database = database
        self.token = token
    }

    /// Parses `http://host:port`, `tcp://host:port`, `host:port` or `host`, as
    /// pymilvus's `uri` does, with an optional database path (`http://host:19530/db`).
    ///
    /// - Throws: ``SearchError/Code/invalidArgument`` for `https://` (TLS is not
    ///   built into the adapter: put a TLS-terminating proxy on the client's
    ///   host), a missing host or a port outside 1…65535.
    public init(uri: String) throws(SearchError) {
        var rest = Substring(uri)
        if let scheme = rest.range(of: "://") {
            let name = rest[..<scheme.lowerBound].lowercased()
            guard name == "http" || name == "tcp" || name == "grpc" else {
                throw SearchError(
                    .invalidArgument,
                    "Milvus URI '\(uri)': scheme '\(name)' is not supported; use http://host:port (plain gRPC; TLS is not built in)")
            }
            rest = rest[scheme.upperBound...]
        }
        var database: String?
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...].trimmingSlashes()
            database = path.isEmpty ? nil : String(path)
            rest = rest[..<slash]
        }
        var host = String(rest)
        var port = 19530
        if host.hasPrefix("[") {  // [IPv6]:port
            guard let close = host.firstIndex(of: "]") else {
                throw SearchError(.invalidArgument, "Milvus URI '\(uri)': an IPv6 address needs a closing ']'")
            }
            let after = host[host.index(after: close)...]
            let address = String(host[host.index(after: host.startIndex)..<close])
            if after.hasPrefix(":") {
                guard let value = Int(after.dropFirst()) else {
                    throw SearchError(.invalidArgument, "Milvus URI '\(uri)': '\(after.dropFirst())' is not a port number")
                }
                port = value
            }
            host = address
        } else if let colon = host.lastIndex(of: ":") {
            guard let value = Int(host[host.index(after: colon)...]) else {
                throw SearchError(.invalidArgument, "Milvus URI '\(uri)': '\(host[host.index(after: colon)...])' is not a port number")
            }
            port = value
            host = String(host[..<colon])
        }
        guard !host.isEmpty else {
            throw SearchError(.invalidArgument, "Milvus URI '\(uri)' names no host; write it as http://127.0.0.1:19530")
        }
        guard (1...65535).contains(port) else {
            throw SearchError(.invalidArgument, "Milvus URI '\(uri)': port \(port) is outside 1…65535")
        }
        self.init(host: host, port: port, database: database)
    }

    /// `http://host:port[/database]`.
    public var uri: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "http://\(shownHost):\(port)" + (database.map { "/\($0)" } ?? "")
    }
}

extension Substring {
    fileprivate func trimmingSlashes() -> Substring {
        var s = self
        while s.first == "/" { s = s.dropFirst() }
        while s.last == "/" { s = s.dropLast() }
        return s
    }
}
