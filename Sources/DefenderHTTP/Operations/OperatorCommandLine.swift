import DefenderCore

/// The operator commands' command line — names, help texts, options and their parsing — once for every
/// integration: Vapor's `defender` command group and the Hummingbird demo's `defender` subcommand hand the words
/// after `defender` to ``run(_:with:)`` and print what it returns, so both read `--ip` and `--seconds` the same
/// way and say the same thing about a mistake.
package enum OperatorCommandLine {
    /// One option, flag or positional argument of a command.
    package struct Parameter: Sendable {
        /// How it is written.
        package enum Kind: Sendable {
            /// `--json`.
            case flag
            /// `--ip VALUE` or `--ip=VALUE`, optional.
            case option
            /// `--seconds N`, optional, a whole number.
            case integer
            /// A required positional value (`NETWORK`).
            case argument
        }

        package let name: String
        package let kind: Kind
        package let help: String

        /// How the usage line writes it.
        var usage: String {
            switch kind {
            case .flag: "[--\(name)]"
            case .option, .integer: "[--\(name) \(name.uppercased())]"
            case .argument: name.uppercased()
            }
        }
    }

    /// One command.
    package struct Command: Sendable {
        package let name: String
        package let help: String
        package let parameters: [Parameter]
        let perform: @Sendable (OperatorCommands, Arguments) async throws -> String

        /// `defender block [--ip IP] …` and one line per parameter.
        package var usage: String {
            let line = (["defender", name] + parameters.map(\.usage)).joined(separator: " ")
            return ([line, "", help] + parameters.map { parameter in "  \(parameter.usage.filter { $0 != "[" && $0 != "]" })  \(parameter.help)" }).joined(separator: "\n")
        }
    }

    /// What the command line gave a command.
    package struct Arguments: Sendable {
        var values: [String: String] = [:]
        var flags: Set<String> = []

        package func value(_ name: String) -> String? { values[name] }
        package func flag(_ name: String) -> Bool { flags.contains(name) }
        package func integer(_ name: String) -> Int? { values[name].flatMap { Int($0) } }
    }

    /// Runs the command `words` name (`["block", "--ip", "192.0.2.1"]`) and returns the text to print.
    /// - Throws: `DefenderCommandError` naming the mistake (an unknown command or option, a missing value), or
    ///   what the command itself found wrong.
    package static func run(_ words: [String], with commands: OperatorCommands) async throws -> String {
        guard let name = words.first else { throw DefenderCommandError("name a command:\n" + summary) }
        guard let command = command(named: name) else { throw DefenderCommandError("there is no command '\(name)'; the commands:\n" + summary) }
        return try await command.perform(commands, try parse(Array(words.dropFirst()), for: command))
    }

    /// The command called `name`.
    package static func command(named name: String) -> Command? {
        all.first { $0.name == name }
    }

    /// One line per command: its name and what it does.
    package static var summary: String {
        all.map { "  " + $0.name + String(repeating: " ", count: max(1, 15 - $0.name.count)) + $0.help }.joined(separator: "\n")
    }

    /// Reads `words` (what follows the command's name) as `command`'s parameters.
    package static func parse(_ words: [String], for command: Command) throws(DefenderCommandError) -> Arguments {
        var arguments = Arguments()
        var positional = command.parameters.filter { $0.kind == .argument }[...]
        var index = words.startIndex
        while index < words.endIndex {
            let word = words[index]
            index += 1
            guard word.hasPrefix("--") else {
                guard let parameter = positional.popFirst() else {
                    throw DefenderCommandError("`defender \(command.name)` takes no value '\(word)'\n\n\(command.usage)")
                }
                arguments.values[parameter.name] = word
                continue
            }
            var name = String(word.dropFirst(2))
            var inline: String?
            if let equals = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let parameter = command.parameters.first(where: { $0.name == name && $0.kind != .argument }) else {
                throw DefenderCommandError("`defender \(command.name)` has no option --\(name)\n\n\(command.usage)")
            }
            if parameter.kind == .flag {
                guard inline == nil else { throw DefenderCommandError("--\(name) is a flag and takes no value") }
                arguments.flags.insert(name)
                continue
            }
            guard let value = inline ?? (index < words.endIndex ? words[index] : nil) else {
                throw DefenderCommandError("--\(name) needs a value\n\n\(command.usage)")
            }
            if inline == nil { index += 1 }
            if parameter.kind == .integer, Int(value) == nil {
                throw DefenderCommandError("--\(name) must be a whole number, not '\(value)'")
            }
            arguments.values[name] = value
        }
        if let missing = positional.first {
            throw DefenderCommandError("`defender \(command.name)` needs \(missing.name.uppercased()): \(missing.help)\n\n\(command.usage)")
        }
        return arguments
    }

    /// Every command, in the order help lists them.
    package static let all: [Command] = [
        Command(name: "cleanup", help: "Deletes access attempts older than DEFENDER_ACCESS_ATTEMPT_EXPIRATION hours.", parameters: []) { commands, _ in
            try await commands.cleanup()
        },
        Command(name: "blocks", help: "Lists blocked IPs, usernames and devices with the time left.", parameters: [json("/blocks")]) { commands, arguments in
            try await commands.blocks(json: arguments.flag("json"))
        },
        Command(
            name: "block", help: "Blocks an IP or a username (permanently unless --seconds is given).",
            parameters: [ip, username, Parameter(name: "seconds", kind: .integer, help: "How long; without it the block is permanent.")]
        ) { commands, arguments in
            try await commands.block(ip: arguments.value("ip"), username: arguments.value("username"), seconds: arguments.integer("seconds"))
        },
        Command(name: "unblock", help: "Lifts the block of an IP or a username and clears its counter.", parameters: [ip, username]) { commands, arguments in
            try await commands.unblock(ip: arguments.value("ip"), username: arguments.value("username"))
        },
    ]
        + rangeListCommands(
            .denylist, names: ("deny", "undeny", "denylist"),
            help: (
                "Adds a range to the stored deny list (every instance applies it within DEFENDER_IP_DENYLIST_RELOAD_INTERVAL).",
                "Removes a range from the stored deny list.", "Lists the stored deny list."
            ))
        + rangeListCommands(
            .sharedRanges, names: ("share", "unshare", "shared-ranges"),
            help: (
                "Adds a stored shared range: its clients are counted by address and username (every instance applies it within DEFENDER_IP_DENYLIST_RELOAD_INTERVAL).",
                "Removes a stored shared range.", "Lists the stored shared ranges."
            ))

    /// The three commands of a stored list: add a range, remove one, list them (`--json` as the admin API's route
    /// of the same name).
    private static func rangeListCommands(
        _ list: DefenderOperations.RangeList, names: (add: String, remove: String, show: String), help: (add: String, remove: String, show: String)
    ) -> [Command] {
        [
            Command(name: names.add, help: help.add, parameters: [network, note]) { commands, arguments in
                try await commands.add(arguments.value("network") ?? "", note: arguments.value("note"), to: list)
            },
            Command(name: names.remove, help: help.remove, parameters: [listed]) { commands, arguments in
                try await commands.remove(arguments.value("network") ?? "", from: list)
            },
            Command(name: names.show, help: help.show, parameters: [json("/" + names.show)]) { commands, arguments in
                try await commands.show(list, json: arguments.flag("json"))
            },
        ]
    }

    private static let ip = Parameter(name: "ip", kind: .option, help: "An IP address, or an IPv6 group such as 2001:db8::/64.")
    private static let username = Parameter(name: "username", kind: .option, help: "A username.")
    private static let network = Parameter(name: "network", kind: .argument, help: "An address or CIDR range, such as 203.0.113.0/24 or 2001:db8::/32.")
    private static let listed = Parameter(name: "network", kind: .argument, help: "A range on the list, as it is listed.")
    private static let note = Parameter(name: "note", kind: .option, help: "Why, for the next operator.")
    private static func json(_ route: String) -> Parameter {
        Parameter(name: "json", kind: .flag, help: "Print JSON, as the admin API's \(route).")
    }
}
