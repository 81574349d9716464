import Logging
import NIOCore
import Synchronization

/// Finds the primary through Sentinel and keeps the answer until it is known to be wrong.
///
/// The address is asked for (`SENTINEL get-master-addr-by-name`) when none is known; it is forgotten when a
/// connection to it fails, when it answers `READONLY`, or when the handshake's `ROLE` says it is a replica, and it
/// is replaced when a Sentinel announces `+switch-master` or a periodic check finds another one. The Sentinels are
/// asked in turn; the one that answered is asked first next time.
final class SentinelLocator: Sendable {
    let settings: RedisConfiguration.Sentinel
    /// TLS and timeouts for the Sentinels; their own credentials, no database, no scripts.
    private let sentinelBase: RedisConfiguration
    private let state: Mutex<State>

    private struct State {
        var primary: RedisConfiguration.Endpoint?
        /// The Sentinels, the last one that answered first.
        var order: [RedisConfiguration.Endpoint]
    }

    init(_ settings: RedisConfiguration.Sentinel, base: RedisConfiguration) {
        self.settings = settings
        var sentinelBase = base
        sentinelBase.topology = .standalone
        sentinelBase.username = settings.username
        sentinelBase.password = settings.password
        sentinelBase.database = 0
        sentinelBase.clientName = nil
        self.sentinelBase = sentinelBase
        state = Mutex(State(order: settings.sentinels))
    }

    /// The primary last found, if any.
    var knownPrimary: RedisConfiguration.Endpoint? { state.withLock { $0.primary } }

    /// The primary: the one known, or the Sentinels' answer.
    func primary(on eventLoop: any EventLoop) async throws -> RedisConfiguration.Endpoint {
        if let known = knownPrimary { return known }
        let found = try await ask(on: eventLoop)
        // A `+switch-master` adopted while we asked is newer than our answer.
        return state.withLock { state in
            if let adopted = state.primary { return adopted }
            state.primary = found
            return found
        }
    }

    /// Forgets `endpoint` (or whatever is known, with `nil`) so that the next connection asks the Sentinels again.
    func forget(_ endpoint: RedisConfiguration.Endpoint?) {
        state.withLock { state in
            if endpoint == nil || state.primary == endpoint { state.primary = nil }
        }
    }

    /// Records a primary learnt from the Sentinels; returns whether it differs from the one known.
    @discardableResult
    func adopt(_ endpoint: RedisConfiguration.Endpoint) -> Bool {
        state.withLock { state in
            defer { state.primary = endpoint }
            return state.primary != nil && state.primary != endpoint
        }
    }

    /// Asks the Sentinels, in turn, for the primary's address.
    /// - Throws: ``RedisError`` `connectionFailed` when no Sentinel answers with an address.
    func ask(on eventLoop: any EventLoop) async throws -> RedisConfiguration.Endpoint {
        var failures: [String] = []
        for sentinel in state.withLock({ $0.order }) {
            do {
                let connection = try await RedisConnection.connect(to: configuration(for: sentinel), on: eventLoop)
                defer { Task { await connection.close() } }
                let reply = try await connection.send(["SENTINEL", "get-master-addr-by-name", settings.masterName])
                guard let parts = reply.elements, parts.count == 2, let host = parts[0].string, let portText = parts[1].string,
                    let port = Int(portText)
                else {
                    failures.append("\(sentinel.hostPort) does not know '\(settings.masterName)'")
                    continue
                }
                state.withLock { state in
                    state.order.removeAll { $0 == sentinel }
                    state.order.insert(sentinel, at: 0)
                }
                return .tcp(host: host, port: port)
            } catch {
                failures.append("\(sentinel.hostPort): \((error as? RedisError)?.message ?? "\(error)")")
            }
        }
        throw RedisError(.connectionFailed, "no Sentinel gave the primary '\(settings.masterName)': \(failures.joined(separator: "; "))")
    }

    /// A connection to one Sentinel that delivers its `+switch-master` announcements for our primary.
    func subscribe(
        on eventLoop: any EventLoop, onSwitch: @escaping @Sendable (RedisConfiguration.Endpoint) -> Void
    ) async throws -> RedisConnection {
        let masterName = settings.masterName
        var lastError: (any Error)?
        for sentinel in state.withLock({ $0.order }) {
            do {
                let connection = try await RedisConnection.connect(to: configuration(for: sentinel), on: eventLoop) { message in
                    // ["message", "+switch-master", "<name> <old-ip> <old-port> <new-ip> <new-port>"]
                    guard let parts = message.elements, parts.count == 3, parts[0].string == "message",
                        let words = parts[2].string?.split(separator: " "), words.count == 5, words[0] == masterName,
                        let port = Int(words[4])
                    else { return }
                    onSwitch(.tcp(host: String(words[3]), port: port))
                }
                do {
                    _ = try await connection.send(["SUBSCRIBE", "+switch-master"])
                } catch {
                    await connection.close()
                    throw error
                }
                return connection
            } catch {
                lastError = error
            }
        }
        throw lastError ?? RedisError(.connectionFailed, "no Sentinel configured")
    }

    private func configuration(for sentinel: RedisConfiguration.Endpoint) -> RedisConfiguration {
        var configuration = sentinelBase
        configuration.endpoint = sentinel
        return configuration
    }
}
