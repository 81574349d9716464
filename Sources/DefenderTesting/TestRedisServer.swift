import DefenderCore
import Foundation
import Synchronization
import Testing

/// A redis-server process of a test's own, on a free loopback port, stopped by its PID (also when dropped).
public final class RedisServer: @unchecked Sendable {
    /// The port it listens on (the TLS port with `tlsPort`).
    public let port: Int
    let directory: URL
    let process: Process
    /// The arguments it was started with, for `restart()`.
    let arguments: [String]
    /// Set once `restart()` handed the directory to the next process, which removes it when it stops.
    private let handedOver = Mutex(false)

    /// Starts `redis-server` with extra arguments (e.g. `--requirepass x`).
    public convenience init(_ arguments: [String] = [], tlsPort: Bool = false, fixedPort: Int? = nil) async throws {
        try await self.init(fixedPort: fixedPort) { port, directory in
            let portArguments = tlsPort ? ["--port", "0", "--tls-port", String(port)] : ["--port", String(port)]
            return portArguments + ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory.path] + arguments
        }
    }

    /// Starts a Sentinel (`redis-server sentinel.conf --sentinel`) that monitors the primary on `primaryPort` under
    /// `masterName`, with a quorum of 2 and short timeouts (down after 1 s), so that a failover takes seconds.
    /// `serverPassword` is the monitored servers' (`sentinel auth-pass`), `ownPassword` the Sentinel's own.
    /// With `tls` (a certificate and its key), the Sentinel listens with TLS only and reaches the servers with TLS.
    public static func sentinel(
        monitoring primaryPort: Int, masterName: String = "defender-test", serverPassword: String? = nil, ownPassword: String? = nil,
        tls: (certificate: String, key: String)? = nil
    ) async throws -> RedisServer {
        try await RedisServer(fixedPort: nil) { port, directory in
            let file = directory.appendingPathComponent("sentinel-\(port).conf")
            let listen = tls.map {
                """
                port 0
                tls-port \(port)
                tls-cert-file \($0.certificate)
                tls-key-file \($0.key)
                tls-ca-cert-file \($0.certificate)
                tls-auth-clients no
                tls-replication yes
                """
            } ?? "port \(port)"
            let text = """
                \(listen)
                bind 127.0.0.1
                dir \(directory.path)
                sentinel monitor \(masterName) 127.0.0.1 \(primaryPort) 2
                sentinel down-after-milliseconds \(masterName) 1000
                sentinel failover-timeout \(masterName) 4000
                sentinel parallel-syncs \(masterName) 1
                \(serverPassword.map { "sentinel auth-pass \(masterName) \($0)" } ?? "")
                \(ownPassword.map { "requirepass \($0)\nsentinel sentinel-pass \($0)" } ?? "")

                """
            try text.write(to: file, atomically: true, encoding: .utf8)
            return [file.path, "--sentinel"]
        }
    }

    /// Starts the server with the arguments `arguments` makes for a port and a working directory.
    init(fixedPort: Int?, directory: URL? = nil, arguments: (Int, URL) throws -> [String]) async throws {
        let directory = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("defender-redis-\(UUID().uuidString)")
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = fixedPort ?? LoopbackPort.fresh()
            let process = Process()
            let processArguments = try arguments(port, directory)
            process.executableURL = try Self.executable()
            process.arguments = processArguments
            process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try process.runWithStopSignalsUnblocked()
            if await LoopbackPort.waitUntilListening(port, process: process) {
                self.port = port
                self.process = process
                self.arguments = processArguments
                return
            }
            kill(process.processIdentifier, SIGKILL)
            lastError = DefenderError(.storeUnavailable, "redis-server did not start on \(port)")
        }
        throw lastError!
    }

    /// Stops the server by its PID: SIGTERM, then SIGKILL after two seconds. (`waitUntilExit` would block a
    /// thread of the concurrency pool.)
    /// - Returns: whether it was running and stopped on SIGTERM, gracefully.
    @discardableResult
    public func stop() -> Bool {
        defer { if !handedOver.withLock({ $0 }) { try? FileManager.default.removeItem(at: directory) } }
        guard !hasExited else { return false }
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<200 where !hasExited { usleep(10_000) }
        guard hasExited else {
            kill(process.processIdentifier, SIGKILL)
            return false
        }
        return true
    }

    /// Kills the server at once (SIGKILL): a crash, no shutdown, nothing saved.
    public func crash() {
        if !hasExited {
            kill(process.processIdentifier, SIGKILL)
            for _ in 0..<200 where !hasExited { usleep(10_000) }
        }
    }

    /// Kills the server at once, as `crash()` does, and starts it again on the same port, directory and arguments,
    /// as an operator's restart would: with `--appendonly yes` it replays its append-only file. The returned server
    /// owns the directory from now on (it removes it when it stops); this one is spent.
    public func restart() async throws -> RedisServer {
        crash()
        let arguments = arguments
        let restarted = try await RedisServer(fixedPort: port, directory: directory) { _, _ in arguments }
        // Only now: if the start failed, this one still removes the directory when it stops.
        handedOver.withLock { $0 = true }
        return restarted
    }

    /// Whether the server has exited. Foundation's `isRunning` turns false only once its monitor has reaped
    /// the child, which on Linux lags by seconds (every stop took the whole two-second wait); a zombie
    /// (state `Z` in `/proc/PID/stat`) has already closed its sockets and files.
    private var hasExited: Bool {
        guard process.isRunning else { return true }
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8) else {
            return FileManager.default.fileExists(atPath: "/proc/self")  // with /proc, no entry means gone
        }
        // "PID (command) STATE …": the state follows the last ')'.
        guard let end = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: end)...].first { $0 != " " }
        return state == "Z" || state == "X"
    }

    deinit { stop() }

    /// `redis://127.0.0.1:PORT/0`.
    public var url: String { "redis://127.0.0.1:\(port)/0" }

    static func executable() throws -> URL {
        for path in ["/usr/bin/redis-server", "/usr/local/bin/redis-server"] where FileManager.default.isExecutableFile(atPath: path) {
            return URL(fileURLWithPath: path)
        }
        throw DefenderError(.storeUnavailable, "redis-server is not installed (scripts/test installs it)")
    }

    /// Whether tests that need Redis may run; under CI they must, so a missing server is a failure.
    public static var isAvailable: Bool {
        if (try? executable()) != nil { return true }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            Issue.record("redis-server is required when CI=true; run the tests with scripts/test")
        }
        return false
    }
}

/// The shared server of `scripts/test` (DEFENDER_TEST_REDIS_URL), or one of our own.
public enum SharedRedis {
    /// Our own server, started by the first test that asks (once, however many ask at the same time).
    private static let ownServer = Mutex<Task<RedisServer?, Never>?>(nil)

    /// The URL to use, or `nil` (and, under CI, a recorded failure) when no Redis can be had.
    public static var url: String? {
        get async {
            if let url = ProcessInfo.processInfo.environment["DEFENDER_TEST_REDIS_URL"] { return url }
            guard RedisServer.isAvailable else { return nil }
            let start = ownServer.withLock { task in
                if let task { return task }
                let started = Task<RedisServer?, Never> {
                    let server = try? await RedisServer()
                    // It lives until exit: stop it then, so that no redis-server outlives the tests.
                    startedServer.withLock { $0 = server }
                    atexit { SharedRedis.stopOwnServerAtExit() }
                    return server
                }
                task = started
                return started
            }
            return await start.value?.url
        }
    }

    private static let startedServer = Mutex<RedisServer?>(nil)

    private static func stopOwnServerAtExit() {
        _ = startedServer.withLock { $0?.stop() }
    }
}
