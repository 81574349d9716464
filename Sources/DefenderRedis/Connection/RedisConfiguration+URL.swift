import DefenderCore
import Foundation

extension RedisConfiguration {
    /// Parses a Redis URL:
    /// - `redis://[[user]:password@]host[:port][/db][?options]`, `rediss://…` (TLS);
    /// - `unix:///path/to/socket[?db=N]`;
    /// - `redis-sentinel://[[user]:password@]host[:port][,host[:port]…]/[db]?master=NAME` (`rediss-sentinel://` for
    ///   TLS to the Sentinels and the servers): the hosts are Sentinels (default port 26379), asked for the primary
    ///   named `master`; the user and password are the servers'. `sentinel_username=` and `sentinel_password=` give
    ///   the Sentinels' own credentials when they need them;
    /// - `redis-cluster://[[user]:password@]host[:port][,host[:port]…]` (`rediss-cluster://` for TLS): seed nodes of a
    ///   Redis Cluster (default port 6379; a Cluster has only database 0).
    ///
    /// The user and password are percent-decoded (RFC 3986): `redis://:p%40ss%21@host` has the password `p@ss!`.
    /// Options: `db`, `username` and `password` (as redis-py reads them, in place of the URL's credentials),
    /// `ssl_ca_certs`, `ssl_cert_reqs` (`required`/`none`), `ssl_server_name`, `connect_timeout` and
    /// `command_timeout` (seconds, decimals allowed), `max_connections`; with Sentinel also `master`,
    /// `sentinel_username`, `sentinel_password`. Any other option is an error (ignored, a misspelt `password`
    /// would connect without one).
    /// - Throws: `DefenderError` with `DefenderError/Code/invalidConfiguration` for the setting
    ///   `DEFENDER_REDIS_URL`, wrapping a ``RedisError`` with ``RedisError/Code/invalidURL``; the message never
    ///   repeats a password.
    public init(url: String) throws(DefenderError) {
        func invalid(_ why: String) -> DefenderError {
            let error = RedisError(.invalidURL, "\(Self.redact(url)): \(why)")
            return DefenderError(.invalidConfiguration, error.message, setting: "DEFENDER_REDIS_URL", underlying: error)
        }
        self.init()
        guard let schemeEnd = url.range(of: "://") else { throw invalid("expected redis://, rediss://, redis-sentinel://, redis-cluster:// or unix://") }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        var rest = Substring(url[schemeEnd.upperBound...])
        var query: [String: String] = [:]
        if let mark = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: mark)...].split(separator: "&") {
                // Empty parts kept: `?=` is an option without a name (an error), not a crash on a missing part.
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(parts[0]).lowercased()
                guard Self.options.contains(name) else {
                    // Only a plain option name is repeated, and never beside a password option (an `&` in the
                    // password would have made a piece of it look like a name), nor text after a `?` in a password.
                    let holdsPassword = rest.lowercased().contains("password=")
                    let plain = !holdsPassword && parts.count == 2 && !name.isEmpty && name.utf8.count <= 32
                        && name.utf8.allSatisfy { (0x61...0x7A).contains($0) || $0 == UInt8(ascii: "_") }
                    throw invalid(
                        plain
                            ? "unknown option '\(name)'; the options are \(Self.options.sorted().joined(separator: ", "))"
                            : "the query is not name=value options (a password holding '?', '/', '#' or '@' must be percent-encoded: %3F, %2F, %23, %40)")
                }
                query[name] = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
            }
            rest = rest[..<mark]
        }
        switch scheme {
        case "unix":
            guard rest.hasPrefix("/") else { throw invalid("a unix:// URL needs an absolute socket path") }
            endpoint = .unixSocket(path: String(rest))
        case "redis", "rediss", "redis-sentinel", "rediss-sentinel", "redis-cluster", "rediss-cluster":
            let isSentinel = scheme.hasSuffix("-sentinel")
            let isCluster = scheme.hasSuffix("-cluster")
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
            var hosts = rest
            if let slash = rest.firstIndex(of: "/") {
                hosts = rest[..<slash]
                let path = rest[rest.index(after: slash)...]
                if !path.isEmpty {
                    guard let db = Int(path), db >= 0 else {
                    throw invalid("the path must be a database number (a password holding '/' must be percent-encoded: %2F)")
                }
                    database = db
                }
            }
            let defaultPort = isSentinel ? 26379 : 6379
            var endpoints: [Endpoint] = []
            let list = hosts.split(separator: ",", omittingEmptySubsequences: false)
            for hostPort in list {
                // A lone empty host is `localhost` (as redis-py reads `redis://`); an empty entry in a list is a typo.
                // The text is not repeated: with a password holding an unencoded `/`, it is part of the password.
                guard list.count == 1 || !hostPort.isEmpty, let parsed = Self.parseHostPort(hostPort, defaultPort: defaultPort) else {
                    throw invalid("bad host or port (a password holding '?', '/', '#' or '@' must be percent-encoded: %3F, %2F, %23, %40)")
                }
                endpoints.append(.tcp(host: parsed.host, port: parsed.port))
            }
            guard !endpoints.isEmpty else { throw invalid("no host") }
            guard isSentinel || isCluster || endpoints.count == 1 else { throw invalid("several hosts need redis-sentinel:// or redis-cluster://") }
            endpoint = endpoints[0]
            if scheme.hasPrefix("rediss") {
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
            if isSentinel {
                guard let master = query["master"], !master.isEmpty else { throw invalid("a redis-sentinel:// URL needs ?master=NAME") }
                var sentinel = Sentinel(sentinels: endpoints, masterName: master)
                sentinel.username = query["sentinel_username"].flatMap { $0.isEmpty ? nil : $0 }
                sentinel.password = query["sentinel_password"].flatMap { $0.isEmpty ? nil : $0 }
                topology = .sentinel(sentinel)
            }
            if isCluster {
                guard database == 0, (query["db"] ?? "0") == "0" else { throw invalid("a Redis Cluster has only database 0") }
                topology = .cluster(seeds: endpoints)
            }
        default:
            throw invalid("unknown scheme '\(scheme.prefix(16))'; use redis://, rediss://, redis-sentinel://, redis-cluster:// (or their rediss- forms) or unix://")
        }
        // redis-py's `?password=` and `?username=`: the credentials, when the URL's own are absent.
        if let value = query["password"], !value.isEmpty { password = value }
        if let value = query["username"], !value.isEmpty { username = value }
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

    /// `host`, `host:port`, `[v6]` or `[v6]:port`; an empty host is `localhost`.
    static func parseHostPort(_ text: Substring, defaultPort: Int) -> (host: String, port: Int)? {
        var host = "localhost"
        var port = defaultPort
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let value = Int(after.dropFirst()), (1...65535).contains(value) else { return nil }
                port = value
            }
        } else if let colon = text.lastIndex(of: ":") {
            guard let value = Int(text[text.index(after: colon)...]), (1...65535).contains(value) else { return nil }
            port = value
            host = String(text[..<colon])
        } else if !text.isEmpty {
            host = String(text)
        }
        if host.isEmpty { host = "localhost" }
        return (host, port)
    }

    /// The options a URL may carry.
    static let options: Set<String> = [
        "db", "username", "password", "ssl_ca_certs", "ssl_cert_reqs", "ssl_server_name", "connect_timeout", "command_timeout",
        "max_connections", "master", "sentinel_username", "sentinel_password",
    ]

    /// The URL with its passwords replaced by `***`: everything up to its last `@` (however a password with an
    /// unencoded `?`, `/` or `@` would be split) and every `…password=` option's value.
    public static func redact(_ url: String) -> String {
        URLRedaction.redact(url)
    }
}
