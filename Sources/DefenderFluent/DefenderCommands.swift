import DefenderVapor
import Fluent
import Foundation
import Vapor

/// `defender cleanup | blocks | block | unblock`: django-defender's management commands, as one Vapor command
/// group. Register with `DefenderSupport/useCommands()`.
public struct DefenderCommands: AsyncCommandGroup {
    public var help: String { "Defender: audit-log cleanup and block management." }

    /// The subcommands, by name.
    public var commands: [String: any AnyAsyncCommand] {
        [
            "cleanup": CleanupCommand(), "blocks": BlocksCommand(), "block": BlockCommand(), "unblock": UnblockCommand(),
            "deny": DenyCommand(), "undeny": UndenyCommand(), "denylist": DenylistCommand(),
        ]
    }

    /// The `defender` command group.
    public init() {}

    /// Refuses block management with the memory store: its state lives in the server process, not here.
    static func sharedEngine(_ context: CommandContext) throws -> Defender {
        let engine = try context.application.defender.engine()
        guard engine.configuration.effectiveStore == .redis else {
            throw DefenderCommandError(
                "the memory store keeps its blocks inside the running server process, which this command cannot reach; "
                    + "use the admin API of that server (GET /admin/defender/api/blocks, POST /admin/defender/api/block or /unblock), "
                    + "or set DEFENDER_STORE=redis so that every process shares the same state")
        }
        return engine
    }

    /// The key named by `--ip` or `--username` (exactly one).
    static func key(_ engine: Defender, ip: String?, username: String?) throws -> DefenderKey {
        switch (ip, username) {
        case (let ip?, nil): return try engine.ipKey(ip)
        case (nil, let username?): return try engine.usernameKey(username)
        default: throw DefenderCommandError("give exactly one of --ip ADDRESS or --username NAME")
        }
    }
}

/// A command's error, printed as it is.
public struct DefenderCommandError: Error, CustomStringConvertible, LocalizedError {
    public let description: String
    init(_ description: String) { self.description = description }
    public var errorDescription: String? { description }
}

/// `defender cleanup`: deletes audit rows older than `DEFENDER_ACCESS_ATTEMPT_EXPIRATION` hours, in batches.
struct CleanupCommand: AsyncCommand {
    struct Signature: CommandSignature {}

    var help: String { "Deletes access attempts older than DEFENDER_ACCESS_ATTEMPT_EXPIRATION hours." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        let expiration = try app.defender.engine().configuration.accessAttemptExpiration
        let deleted = try await AccessAttempt.deleteOlder(than: Date().addingTimeInterval(-Double(expiration.components.seconds)), on: app.db)
        context.console.print("Deleted \(deleted) access attempt\(deleted == 1 ? "" : "s") older than \(expiration.components.seconds / 3600) hours.")
    }
}

extension AccessAttempt {
    /// Deletes rows older than `cutoff`, `batchSize` at a time (short transactions, no table-wide lock).
    /// - Returns: how many rows were deleted.
    public static func deleteOlder(than cutoff: Date, batchSize: Int = 5_000, on database: any Database) async throws -> Int {
        var total = 0
        while true {
            let ids = try await AccessAttempt.query(on: database).filter(\.$attemptTime < cutoff).limit(batchSize).all(\.$id).compactMap { $0 }
            guard !ids.isEmpty else { return total }
            try await AccessAttempt.query(on: database).filter(\.$id ~~ ids).delete()
            total += ids.count
        }
    }
}

/// `defender blocks [--json]`.
struct BlocksCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Flag(name: "json", help: "Print JSON, as the admin API's /blocks.")
        var json: Bool
    }

    var help: String { "Lists blocked IPs and usernames with the time left." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let report = try await BlocksReport.read(from: DefenderCommands.sharedEngine(context))
        if signature.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            context.console.print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        func left(_ seconds: Int?) -> String { seconds.map { "\($0) s left" } ?? "permanent" }
        context.console.print("Blocked IPs: \(report.ips.count)")
        for block in report.ips { context.console.print("  \(block.ip)  \(left(block.secondsLeft))\(block.manual ? "  (manual)" : "")  lockouts: \(block.lockouts)") }
        context.console.print("Blocked usernames: \(report.usernames.count)")
        for block in report.usernames {
            context.console.print("  \(block.username)  \(left(block.secondsLeft))\(block.manual ? "  (manual)" : "")  lockouts: \(block.lockouts)")
        }
    }
}

/// `defender block --ip X | --username Y [--seconds N]`.
struct BlockCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "ip", help: "An IP address, or an IPv6 group such as 2001:db8::/64.")
        var ip: String?
        @Option(name: "username", help: "A username.")
        var username: String?
        @Option(name: "seconds", help: "How long; without it the block is permanent.")
        var seconds: Int?
    }

    var help: String { "Blocks an IP or a username (permanently unless --seconds is given)." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let engine = try DefenderCommands.sharedEngine(context)
        let key = try DefenderCommands.key(engine, ip: signature.ip, username: signature.username)
        if let seconds = signature.seconds, seconds <= 0 { throw DefenderCommandError("--seconds must be a whole number above 0") }
        try await engine.block(key, for: signature.seconds.map { .seconds($0) })
        context.console.print("Blocked \(key.kind.rawValue) \(key.value) \(signature.seconds.map { "for \($0) seconds" } ?? "until unblocked").")
    }
}

/// `defender unblock --ip X | --username Y`.
struct UnblockCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "ip", help: "An IP address, or an IPv6 group such as 2001:db8::/64.")
        var ip: String?
        @Option(name: "username", help: "A username.")
        var username: String?
    }

    var help: String { "Lifts the block of an IP or a username and clears its counter." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let engine = try DefenderCommands.sharedEngine(context)
        let key = try DefenderCommands.key(engine, ip: signature.ip, username: signature.username)
        let was = try await engine.unblock(key)
        context.console.print(was ? "Unblocked \(key.kind.rawValue) \(key.value)." : "\(key.kind.rawValue) \(key.value) was not blocked.")
    }
}

/// The stored deny list, or a message saying how to get one.
func storedDenylist(_ context: CommandContext) throws -> FluentDenylist {
    guard let list = context.application.defender.fluentDenylist else {
        throw DefenderCommandError("this app keeps no stored deny list; call app.defender.useFluentDenylist() in its configure")
    }
    return list
}

/// `defender deny NETWORK [--note TEXT]`.
struct DenyCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "network", help: "An address or CIDR range, such as 203.0.113.0/24 or 2001:db8::/32.")
        var network: String
        @Option(name: "note", help: "Why, for the next operator.")
        var note: String?
    }

    var help: String { "Adds a range to the stored deny list (every instance applies it within DEFENDER_IP_DENYLIST_RELOAD_INTERVAL)." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let (network, added) = try await storedDenylist(context).add(signature.network, note: signature.note ?? "")
        context.console.print(added ? "Deny-listed \(network)." : "\(network) was already deny-listed.")
    }
}

/// `defender undeny NETWORK`.
struct UndenyCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "network", help: "A range on the stored deny list.")
        var network: String
    }

    var help: String { "Removes a range from the stored deny list." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let removed = try await storedDenylist(context).remove(signature.network)
        context.console.print(removed ? "Removed \(signature.network) from the deny list." : "\(signature.network) was not on the deny list.")
    }
}

/// `defender denylist [--json]`.
struct DenylistCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Flag(name: "json", help: "Print JSON, as the admin API's /denylist.")
        var json: Bool
    }

    var help: String { "Lists the stored deny list." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let entries = try await storedDenylist(context).entries()
        if signature.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            let page = DefenderAdmin.DenylistPage(entries: entries.map(DefenderAdmin.DenylistRow.init))
            context.console.print(String(decoding: try encoder.encode(page), as: UTF8.self))
            return
        }
        context.console.print("Deny-listed ranges: \(entries.count)")
        for entry in entries { context.console.print("  \(entry.network)\(entry.note.isEmpty ? "" : "  (\(entry.note))")") }
    }
}

extension DefenderSupport {
    /// Registers `defender cleanup | blocks | block | unblock | deny | undeny | denylist`.
    public func useCommands() {
        application.asyncCommands.use(DefenderCommands(), as: "defender")
    }
}
