import DefenderCore
import Foundation

/// A command's error, printed as it is.
public struct DefenderCommandError: Error, CustomStringConvertible, LocalizedError {
    /// What went wrong and what to do.
    public let description: String
    package init(_ description: String) { self.description = description }
    /// The same text, for `localizedDescription`.
    public var errorDescription: String? { description }
}

/// `defender cleanup | blocks | block | unblock | deny | undeny | denylist | share | unshare | shared-ranges` (django-defender's management
/// commands and ours), framework-neutral: each returns the text to print. Vapor's and Hummingbird's command
/// adapters only read their arguments and print.
package struct OperatorCommands: Sendable {
    package let operations: DefenderOperations

    package init(_ operations: DefenderOperations) {
        self.operations = operations
    }

    /// The engine for block management: the memory store is refused, as its state lives in the server process,
    /// not in this one.
    func sharedEngine() throws -> Defender {
        guard operations.engine.configuration.effectiveStore == .redis else {
            throw DefenderCommandError(
                "the memory store keeps its blocks inside the running server process, which this command cannot reach; "
                    + "use the admin API of that server (GET /admin/defender/api/blocks, POST /admin/defender/api/block or /unblock), "
                    + "or set DEFENDER_STORE=redis so that every process shares the same state")
        }
        return operations.engine
    }

    func key(ip: String?, username: String?, pairs: Bool = false) throws -> DefenderKey {
        guard let key = try operations.key(ip: ip, username: username, pairs: pairs) else {
            throw DefenderCommandError("give exactly one of --ip ADDRESS or --username NAME" + (pairs ? " (or both: a shared address's pair)" : ""))
        }
        return key
    }

    /// `defender cleanup`: deletes audit rows older than `DEFENDER_ACCESS_ATTEMPT_EXPIRATION` hours.
    package func cleanup() async throws -> String {
        let deleted = try await commandError { try await operations.cleanup() }
        let hours = operations.engine.configuration.accessAttemptExpiration.components.seconds / 3600
        return "Deleted \(deleted) access attempt\(deleted == 1 ? "" : "s") older than \(hours) hours."
    }

    /// `defender blocks [--json]`.
    package func blocks(json: Bool) async throws -> String {
        _ = try sharedEngine()
        let report = try await operations.blocks()
        if json { return try Self.json(report) }
        func left(_ seconds: Int?) -> String { seconds.map { "\($0) s left" } ?? "permanent" }
        var lines = ["Blocked IPs: \(report.ips.count)"]
        for block in report.ips { lines.append("  \(block.ip)  \(left(block.secondsLeft))\(block.manual ? "  (manual)" : "")  lockouts: \(block.lockouts)") }
        lines.append("Blocked usernames: \(report.usernames.count)")
        for block in report.usernames {
            lines.append("  \(block.username)  \(left(block.secondsLeft))\(block.manual ? "  (manual)" : "")  lockouts: \(block.lockouts)")
        }
        lines.append("Blocked shared-address pairs: \(report.pairs.count)")
        for block in report.pairs {
            lines.append("  \(block.username) at \(block.ip)  \(left(block.secondsLeft))\(block.manual ? "  (manual)" : "")  lockouts: \(block.lockouts)")
        }
        lines.append("Blocked devices: \(report.devices.count)")
        for block in report.devices {
            lines.append("  \(block.device)  \(left(block.secondsLeft))\(block.manual ? "  (manual)" : "")  lockouts: \(block.lockouts)")
        }
        return lines.joined(separator: "\n")
    }

    /// `defender block --ip X | --username Y [--seconds N]`.
    package func block(ip: String?, username: String?, seconds: Int?) async throws -> String {
        _ = try sharedEngine()
        let key = try key(ip: ip, username: username)
        if let seconds, seconds <= 0 { throw DefenderCommandError("--seconds must be a whole number above 0") }
        try await operations.block(key, seconds: seconds)
        return "Blocked \(key.kind.rawValue) \(key.value) \(seconds.map { "for \($0) seconds" } ?? "until unblocked")."
    }

    /// `defender unblock --ip X | --username Y`, or both for a shared address's pair.
    package func unblock(ip: String?, username: String?) async throws -> String {
        _ = try sharedEngine()
        let key = try key(ip: ip, username: username, pairs: true)
        return try await operations.unblock(key) ? "Unblocked \(key.kind.rawValue) \(key.value)." : "\(key.kind.rawValue) \(key.value) was not blocked."
    }

    /// `defender deny NETWORK [--note TEXT]`, `defender share NETWORK [--note TEXT]`.
    package func add(_ network: String, note: String?, to list: DefenderOperations.RangeList) async throws -> String {
        let (range, added) = try await commandError { try await operations.add(network, note: note ?? "", to: list) }
        return list.added(range, wasNew: added)
    }

    /// `defender undeny NETWORK`, `defender unshare NETWORK`.
    package func remove(_ network: String, from list: DefenderOperations.RangeList) async throws -> String {
        list.removed(network, wasThere: try await commandError { try await operations.remove(network, from: list) })
    }

    /// `defender denylist [--json]`, `defender shared-ranges [--json]`.
    package func show(_ list: DefenderOperations.RangeList, json: Bool) async throws -> String {
        let entries = try await commandError { try await operations.require(list).entries() }
        if json { return try Self.json(DenylistPage(entries: entries.map(DenylistPage.Row.init))) }
        return ([list.heading(count: entries.count)] + entries.map { "  \($0.network)\($0.note.isEmpty ? "" : "  (\($0.note))")" })
            .joined(separator: "\n")
    }

    /// Runs `body`, printing a `DefenderError` as its message alone (it says what to fix).
    private func commandError<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as DefenderError {
            throw DefenderCommandError(error.message)
        }
    }

    static func json(_ value: some Encodable) throws -> String {
        String(decoding: try HTTPAnswer.encoder().encode(value), as: UTF8.self)
    }
}
