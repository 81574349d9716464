import Foundation
import DefenderCore

/// Where and how to connect to Redis, usually read from a `redis://` or `rediss://` URL.
///
/// Its `description` never shows the password.
public struct RedisConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// The server's address.
    public enum Endpoint: Sendable, Equatable {
        /// A host name or address and a port.
        case tcp(host: String, port: Int)
        /// A Unix domain socket.
        case unixSocket(path: String)
    }

    /// TLS settings for `rediss://`.
    public struct TLS: Sendable, Equatable {
        /// A PEM file of CA certificates to trust instead of the system's (`?ssl_ca_certs=`).
        public var caCertificatesPath: String?
        /// Whether the server certificate is verified (`?ssl_cert_reqs=none` turns it off; for tests only).
        public var verifyCertificate: Bool = true
        /// The name sent with SNI and checked against the certificate; the host by default.
        public var serverName: String?

        /// TLS settings: the CA bundle (`nil`: the system's), whether to verify the server, and the name to verify.
        public init(caCertificatesPath: String? = nil, verifyCertificate: Bool = true, serverName: String? = nil) {
            self.caCertificatesPath = caCertificatesPath
            self.verifyCertificate = verifyCertificate
            self.serverName = serverName
        }
    }

    /// Where the server listens.
    public var endpoint: Endpoint
    /// `nil` for plain TCP.
    public var tls: TLS?
    /// The ACL user (Redis 6+); `nil` authenticates as `default` with `password` alone.
    public var username: String?
    /// The `AUTH` password; never printed.
    public var password: String?
    /// The database number sent with `SELECT` (not sent for 0).
    public var database: Int = 0
    /// How long a connection attempt may take.
    public var connectTimeout: Duration = .seconds(1)
    /// How long a command may wait for its reply.
    public var commandTimeout: Duration = .seconds(1)
    /// The most connections the client opens (each one is pipelined).
    public var maximumConnections: Int = 2
    /// After a failed connection attempt, requests fail at once for this long (then doubling, with jitter, up to
    /// `maximumBackoff`), so that an outage does not add a connect timeout to every login.
    public var initialBackoff: Duration = .milliseconds(250)
    /// The longest back-off between reconnection attempts.
    public var maximumBackoff: Duration = .seconds(5)
    /// Sent with `CLIENT SETNAME`.
    public var clientName: String? = "defender"

    /// Creates a configuration for a TCP endpoint.
    public init(host: String = "localhost", port: Int = 6379) {
        endpoint = .tcp(host: host, port: port)
    }

    /// Parses `redis://[[user]:password@]host[:port][/db][?options]`, `rediss://…` (TLS) or
    /// `unix:///path/to/socket[?db=N]`.
    ///
    /// The user and password are percent-decoded (RFC 3986): `redis://:p%40ss%21@host` has the password `p@ss!`.
    /// Options: `db`, `ssl_ca_certs`, `ssl_cert_reqs` (`required`/`none`), `ssl_server_name`,
    /// `connect_timeout` and `command_timeout` (seconds, decimals allowed), `max_connections`.
    /// - Throws: `DefenderError` with `DefenderError/Code/invalidConfiguration` for the setting
    ///   `DEFENDER_REDIS_URL`, wrapping a ``RedisError`` with ``RedisError/Code/invalidURL``; the message never
    ///   repeats the password.
    public init(url: String) throws(DefenderError) {
        func invalid(_ why: String) -> DefenderError {
            let error = RedisError(.invalidURL, "\(Self.redact(url)): \(why)")
            return DefenderError(.invalidConfiguration, error.message, setting: "DEFENDER_REDIS_URL", underlying: error)
        }
        guard let schemeEnd = url.range(of: "://") else { throw invalid("expected redis://, rediss:// or unix://") }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        var rest = Substring(url[schemeEnd.upperBound...])
        var query: [String: String] = [:]
        if let mark = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: mark)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                query[String(parts[0]).lowercased()] = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
            }
            rest = rest[..<mark]
        }
        switch scheme {
        case "unix":
            guard rest.hasPrefix("/") else { throw invalid("a unix:// URL needs an absolute socket path") }
            endpoint = .unixSocket(path: String(rest))
        case "redis", "rediss":
            if let at = rest.lastIndex(of: "@") {
                let credentials = rest[..<at]
                rest = rest[rest.index(after: at)...]
                let parts = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                let user = String(parts[0]).removingPercentEncoding
                let pass = parts.count > 1 ? String(parts[1]).removingPercentEncoding : nil
                guard let user, parts.count < 2 || pass != nil else { throw invalid("bad percent-encoding in the credentials") }
                if parts.count == 1 {
                    // "redis://secret@host": redis-py reads a lone value as the password.
                    password = user.isEmpty ? nil : user
                } else {
                    username = user.isEmpty ? nil : user
                    password = pass
                }
            }
            var hostPort = rest
            if let slash = rest.firstIndex(of: "/") {
                hostPort = rest[..<slash]
                let path = rest[rest.index(after: slash)...]
                if !path.isEmpty {
                    guard let db = Int(path), db >= 0 else { throw invalid("the path must be a database number") }
                    database = db
                }
            }
            var host = "localhost"
            var port = 6379
            if hostPort.hasPrefix("[") {
                guard let close = hostPort.firstIndex(of: "]") else { throw invalid("unclosed [ in the host") }
                host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
                let after = hostPort[hostPort.index(after: close)...]
                if after.hasPrefix(":") {
                    guard let value = Int(after.dropFirst()), (1...65535).contains(value) else { throw invalid("bad port") }
                    port = value
                }
            } else if let colon = hostPort.lastIndex(of: ":") {
                guard let value = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(value) else { throw invalid("bad port") }
                port = value
                host = String(hostPort[..<colon])
            } else if !hostPort.isEmpty {
                host = String(hostPort)
            }
            if host.isEmpty { host = "localhost" }
            endpoint = .tcp(host: host, port: port)
            if scheme == "rediss" {
                var tls = TLS()
                tls.caCertificatesPath = query["ssl_ca_certs"]
                if let reqs = query["ssl_cert_reqs"] {
                    switch reqs.lowercased() {
                    case "none": tls.verifyCertificate = false
                    case "required", "optional": tls.verifyCertificate = true
                    default: throw invalid("ssl_cert_reqs must be required or none")
                    }
                }
                tls.serverName = query["ssl_server_name"]
                self.tls = tls
            }
        default:
            throw invalid("unknown scheme '\(scheme.prefix(10))'; use redis://, rediss:// or unix://")
        }
        if let db = query["db"] {
            guard let value = Int(db), value >= 0 else { throw invalid("db must be a number") }
            database = value
        }
        for (name, keyPath) in [("connect_timeout", \RedisConfiguration.connectTimeout), ("command_timeout", \.commandTimeout)] {
            guard let raw = query[name] else { continue }
            guard let seconds = Double(raw), seconds > 0, seconds <= 3600 else { throw invalid("\(name) must be seconds > 0") }
            self[keyPath: keyPath] = .milliseconds(Int64(seconds * 1000))
        }
        if let raw = query["max_connections"] {
            guard let value = Int(raw), (1...64).contains(value) else { throw invalid("max_connections must be 1 to 64") }
            maximumConnections = value
        }
    }

    /// The URL with its password replaced by `***`.
    public static func redact(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url.contains("@") ? "***" : url }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return url }
        let credentials = rest[..<at]
        let user = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let shown = user.count > 1 ? "\(user[0]):***" : "***"
        return String(url[..<schemeEnd.upperBound]) + shown + String(rest[at...])
    }

    public var description: String {
        let scheme = tls == nil ? "redis" : "rediss"
        let credentials = password == nil ? (username.map { "\($0)@" } ?? "") : "\(username ?? ""):***@"
        switch endpoint {
        case .tcp(let host, let port):
            let shownHost = host.contains(":") ? "[\(host)]" : host
            return "\(scheme)://\(credentials)\(shownHost):\(port)/\(database)"
        case .unixSocket(let path):
            return "unix://\(credentials)\(path)?db=\(database)"
        }
    }
}
