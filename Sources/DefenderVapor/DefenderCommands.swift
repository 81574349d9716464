import DefenderHTTP
import Vapor

/// `defender cleanup | blocks | block | unblock | deny | undeny | denylist | share | unshare | shared-ranges`:
/// django-defender's management commands
/// and ours, as one Vapor command group (`DefenderHTTP`'s commands; this type only reads the arguments and prints).
/// Register with `DefenderSupport/useCommands()`.
public struct DefenderCommands: AsyncCommandGroup {
    public var help: String { "Defender: audit-log cleanup and block management." }

    /// The subcommands, by name.
    public var commands: [String: any AnyAsyncCommand] {
        [
            "cleanup": CleanupCommand(), "blocks": BlocksCommand(), "block": BlockCommand(), "unblock": UnblockCommand(),
            "deny": RangeAddCommand(list: .denylist), "undeny": RangeRemoveCommand(list: .denylist), "denylist": RangeListCommand(list: .denylist),
            "share": RangeAddCommand(list: .sharedRanges), "unshare": RangeRemoveCommand(list: .sharedRanges),
            "shared-ranges": RangeListCommand(list: .sharedRanges),
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
    /// Registers `defender cleanup | blocks | block | unblock | deny | undeny | denylist | share | unshare | shared-ranges`.
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

/// `defender deny` and `defender share`: a range added to a stored list.
struct RangeAddCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "network", help: "An address or CIDR range, such as 203.0.113.0/24 or 2001:db8::/32.")
        var network: String
        @Option(name: "note", help: "Why, for the next operator.")
        var note: String?
    }
    let list: DefenderOperations.RangeList
    var help: String {
        list == .denylist
            ? "Adds a range to the stored deny list (every instance applies it within DEFENDER_IP_DENYLIST_RELOAD_INTERVAL)."
            : "Adds a stored shared range: its clients are counted by address and username (every instance applies it within DEFENDER_IP_DENYLIST_RELOAD_INTERVAL)."
    }
    func run(using context: CommandContext, signature: Signature) async throws {
        try await DefenderCommands.run(context) { commands in
            list == .denylist
                ? try await commands.deny(signature.network, note: signature.note) : try await commands.share(signature.network, note: signature.note)
        }
    }
}

/// `defender undeny` and `defender unshare`.
struct RangeRemoveCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "network", help: "A range on the stored list.")
        var network: String
    }
    let list: DefenderOperations.RangeList
    var help: String { "Removes a range from the \(list.title)." }
    func run(using context: CommandContext, signature: Signature) async throws {
        try await DefenderCommands.run(context) { commands in
            list == .denylist ? try await commands.undeny(signature.network) : try await commands.unshare(signature.network)
        }
    }
}

/// `defender denylist` and `defender shared-ranges`.
struct RangeListCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Flag(name: "json", help: "Print JSON, as the admin API does.")
        var json: Bool
    }
    let list: DefenderOperations.RangeList
    var help: String { "Lists the \(list.title)." }
    func run(using context: CommandContext, signature: Signature) async throws {
        try await DefenderCommands.run(context) { commands in
            list == .denylist ? try await commands.denylist(json: signature.json) : try await commands.sharedRanges(json: signature.json)
        }
    }
}
