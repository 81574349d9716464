import DefenderHTTP
import Vapor

/// `defender cleanup | blocks | block | unblock | deny | undeny | denylist`: django-defender's management commands
/// and ours, as one Vapor command group (`DefenderHTTP`'s commands; this type only reads the arguments and prints).
/// Register with `DefenderSupport/useCommands()`.
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

    /// Runs one command and prints what it says.
    static func run(_ context: CommandContext, _ body: (OperatorCommands) async throws -> String) async throws {
        context.console.print(try await body(OperatorCommands(context.application.defender.operations())))
    }
}

extension DefenderSupport {
    /// Registers `defender cleanup | blocks | block | unblock | deny | undeny | denylist`.
    public func useCommands() {
        application.asyncCommands.use(DefenderCommands(), as: "defender")
    }
}

struct CleanupCommand: AsyncCommand {
    struct Signature: CommandSignature {}
    var help: String { "Deletes access attempts older than DEFENDER_ACCESS_ATTEMPT_EXPIRATION hours." }
    func run(using context: CommandContext, signature: Signature) async throws {
        try await DefenderCommands.run(context) { try await $0.cleanup() }
    }
}

struct BlocksCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Flag(name: "json", help: "Print JSON, as the admin API's /blocks.")
        var json: Bool
    }
    var help: String { "Lists blocked IPs and usernames with the time left." }
    func run(using context: CommandContext, signature: Signature) async throws {
        try await DefenderCommands.run(context) { try await $0.blocks(json: signature.json) }
    }
}

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
        try await DefenderCommands.run(context) { try await $0.block(ip: signature.ip, username: signature.username, seconds: signature.seconds) }
    }
}

struct UnblockCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "ip", help: "An IP address, or an IPv6 group such as 2001:db8::/64.")
        var ip: String?
        @Option(name: "username", help: "A username.")
        var username: String?
    }
    var help: String { "Lifts the block of an IP or a username and clears its counter." }
    func run(using context: CommandContext, signature: Signature) async throws {
        try await DefenderCommands.run(context) { try await $0.unblock(ip: signature.ip, username: signature.username) }
    }
}

struct DenyCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "network", help: "An address or CIDR range, such as 203.0.113.0/24 or 2001:db8::/32.")
        var network: String
        @Option(name: "note", help: "Why, for the next operator.")
        var note: String?
    }
    var help: String { "Adds a range to the stored deny list (every instance applies it within DEFENDER_IP_DENYLIST_RELOAD_INTERVAL)." }
    func run(using context: CommandContext, signature: Signature) async throws {
        try await DefenderCommands.run(context) { try await $0.deny(signature.network, note: signature.note) }
    }
}

struct UndenyCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "network", help: "A range on the stored deny list.")
        var network: String
    }
    var help: String { "Removes a range from the stored deny list." }
    func run(using context: CommandContext, signature: Signature) async throws {
        try await DefenderCommands.run(context) { try await $0.undeny(signature.network) }
    }
}

struct DenylistCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Flag(name: "json", help: "Print JSON, as the admin API's /denylist.")
        var json: Bool
    }
    var help: String { "Lists the stored deny list." }
    func run(using context: CommandContext, signature: Signature) async throws {
        try await DefenderCommands.run(context) { try await $0.denylist(json: signature.json) }
    }
}
