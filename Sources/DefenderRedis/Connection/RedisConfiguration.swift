import Foundation
import DefenderCore

/// Where and how to connect to Redis, usually read from a `redis://` or `rediss://` URL.
///
/// Its `description` never shows the password.
public struct RedisConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// The server's address.
    public enum Endpoint: Sendable, Hashable {
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

    /// How the servers are arranged: one server, primaries found through Sentinel, or a Cluster.
    public enum Topology: Sendable, Equatable {
        /// One server, at ``RedisConfiguration/endpoint``.
        case standalone
        /// A primary and its replicas watched by Sentinels: the client asks the Sentinels which server is the
        /// primary, checks it with `ROLE`, and follows failovers.
        case sentinel(Sentinel)
        /// A Redis Cluster, reached through any of these seed nodes: the client learns which node serves which
        /// slot (`CLUSTER SLOTS`) and follows `MOVED` and `ASK`.
        case cluster(seeds: [Endpoint])
    }

    /// Where the Sentinels are and which primary to ask them for (`redis-sentinel://`).
    public struct Sentinel: Sendable, Equatable {
        /// The Sentinels, asked in turn (one that answers is asked first next time).
        public var sentinels: [Endpoint]
        /// The name the Sentinels monitor the primary under (`?master=`).
        public var masterName: String
        /// The ACL user for the Sentinels themselves (`?sentinel_username=`); `nil`: none.
        public var username: String?
        /// The password for the Sentinels themselves (`?sentinel_password=`); never printed.
        public var password: String? {
            get { passwordText?.value }
            set { passwordText = newValue.map { ConcealedText($0, concealing: .whole) } }
        }
        /// ``password``'s storage: it dumps and prints as `***`.
        var passwordText: ConcealedText?
        /// How often the Sentinels are asked for the primary besides the `+switch-master` announcements.
        public var checkInterval: Duration = .seconds(2)

        /// Sentinels to ask for the primary named `masterName`.
        public init(sentinels: [Endpoint], masterName: String, username: String? = nil, password: String? = nil) {
            self.sentinels = sentinels
            self.masterName = masterName
            self.username = username
            self.password = password
        }
    }

    /// Where the server listens (with Sentinel: the first Sentinel; the primary's address is asked for).
    public var endpoint: Endpoint
    /// Standalone, Sentinel or Cluster.
    public var topology: Topology = .standalone
    /// `nil` for plain TCP.
    public var tls: TLS?
    /// The ACL user (Redis 6+); `nil` authenticates as `default` with `password` alone.
    public var username: String?
    /// The `AUTH` password; never printed.
    public var password: String? {
        get { passwordText?.value }
        set { passwordText = newValue.map { ConcealedText($0, concealing: .whole) } }
    }
    /// ``password``'s storage: it dumps and prints as `***`.
    var passwordText: ConcealedText?
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

    /// Whether the servers are a Cluster (the store then puts its prefix in a hash tag).
    var isCluster: Bool {
        if case .cluster = topology { return true }
        return false
    }

    /// Creates a configuration for a TCP endpoint.
    public init(host: String = "localhost", port: Int = 6379) {
        endpoint = .tcp(host: host, port: port)
    }

    public var description: String {
        let scheme = tls == nil ? "redis" : "rediss"
        let credentials = password == nil ? (username.map { "\($0)@" } ?? "") : "\(username ?? ""):***@"
        switch topology {
        case .sentinel(let sentinel):
            let hosts = sentinel.sentinels.map(\.hostPort).joined(separator: ",")
            return "\(scheme)-sentinel://\(credentials)\(hosts)/\(database)?master=\(sentinel.masterName)"
        case .cluster(let seeds):
            return "\(scheme)-cluster://\(credentials)\(seeds.map(\.hostPort).joined(separator: ","))"
        case .standalone:
            break
        }
        switch endpoint {
        case .tcp(let host, let port):
            let shownHost = host.contains(":") ? "[\(host)]" : host
            return "\(scheme)://\(credentials)\(shownHost):\(port)/\(database)"
        case .unixSocket(let path):
            return "unix://\(credentials)\(path)?db=\(database)"
        }
    }
}

extension RedisConfiguration.Endpoint {
    /// `host:port` (`[v6]:port`) or the socket path, for messages.
    var hostPort: String {
        switch self {
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unixSocket(let path): return path
        }
    }
}
