import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Ports for the servers a test starts, and the check that a server really listens on its own.
///
/// A port that merely accepts a connection proves nothing: when the chosen port is already taken by another
/// test's server, the new server fails to bind and exits, but a connection to the port still succeeds — it
/// reaches the other server. (That is how a cluster test once joined a plain redis-server into its cluster.)
/// So ports are handed out once per test process, and on Linux a port counts as ready only when the
/// started process itself holds the listening socket.
enum LoopbackPort {
    private static let handedOut = Mutex(Set<Int>())

    /// A port from 10000 up to the kernel's ephemeral range, not handed out before in this process. Below the
    /// ephemeral range (Linux: 32768–60999 by default), because the kernel hands those out itself — to every
    /// outgoing connection's local end and every server bound to port 0 — so a port chosen there may be taken by
    /// the time a server binds it (seen: a cluster node's bus port, five retries in a row).
    static func fresh() -> Int {
        handedOut.withLock { ports in
            while true {
                let port = Int.random(in: 10_000..<ephemeralStart)
                if ports.insert(port).inserted { return port }
            }
        }
    }

    /// The first port of the kernel's ephemeral range (`/proc/sys/net/ipv4/ip_local_port_range`), 32768 when it
    /// cannot be read, and never below 20000 (so that the range above stays wide).
    static let ephemeralStart: Int = {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        let low = text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32_768
        return max(20_000, low)
    }()

    /// Waits up to twenty seconds until `process` listens on `port` of 127.0.0.1. The wait suspends, never blocks:
    /// a blocking wait held one of the test pool's few threads (two on a two-core machine) while a server started,
    /// which stalled every other test's HTTP and Redis deadlines on a loaded machine.
    static func waitUntilListening(_ port: Int, process: Process) async -> Bool {
        // A server that exits (its port taken) ends the wait at once; the caller then tries another port.
        for _ in 0..<400 {
            guard process.isRunning else { return false }
            if accepts(port), listens(process.processIdentifier, on: port) { return true }
            do { try await Task.sleep(for: .milliseconds(50)) } catch { return false }
        }
        return false
    }

    private static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    /// Whether `pid` holds a listening TCP socket on `port`: the inodes of its socket descriptors
    /// (`/proc/PID/fd`) against the listening sockets of `/proc/net/tcp` and `tcp6` (state `0A`).
    /// Where `/proc` does not exist, the connection alone has to do.
    static func listens(_ pid: Int32, on port: Int) -> Bool {
        let descriptors = "/proc/\(pid)/fd"
        guard let links = try? FileManager.default.contentsOfDirectory(atPath: descriptors) else {
            return !FileManager.default.fileExists(atPath: "/proc/self")
        }
        let ownSockets = Set(links.compactMap { link -> String? in
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(descriptors)/\(link)"),
                target.hasPrefix("socket:[") else { return nil }
            return String(target.dropFirst("socket:[".count).dropLast())
        })
        let hexPort = String(format: ":%04X", port)
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count > 9, fields[1].hasSuffix(hexPort), fields[3] == "0A" else { continue }
                if ownSockets.contains(String(fields[9])) { return true }
            }
        }
        return false
    }
}

extension Process {
    /// Starts the process with SIGTERM and SIGINT unblocked.
    ///
    /// A child inherits the signal mask of the thread that spawns it, and the test runner's threads block
    /// SIGTERM and SIGINT: a server started from one ignored the `kill(pid, SIGTERM)` of its test's `stop()`,
    /// which then waited its full timeout and killed it with SIGKILL — so no test ever saw a graceful stop.
    /// The mask is lifted on the spawning thread only for the spawn.
    func runWithStopSignalsUnblocked() throws {
        var stopSignals = sigset_t()
        var previous = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGTERM)
        sigaddset(&stopSignals, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        try run()
        registerWithTestScript()
    }

    /// Leaves the child's PID and executable where `scripts/test` looks when the test process has ended
    /// (`DEFENDER_TEST_CHILDREN`): a test process that crashes never runs its tests' `stop()`, and the script
    /// then stops the servers it left behind, by PID, if that PID still runs the same executable.
    private func registerWithTestScript() {
        guard let directory = ProcessInfo.processInfo.environment["DEFENDER_TEST_CHILDREN"], !directory.isEmpty,
              let executable = executableURL?.resolvingSymlinksInPath().path else { return }
        let file = URL(fileURLWithPath: directory).appendingPathComponent(String(processIdentifier))
        try? Data(executable.utf8).write(to: file)
    }
}
