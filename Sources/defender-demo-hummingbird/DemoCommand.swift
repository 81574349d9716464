import ArgumentParser
import DefenderDemoSupport
import DefenderHummingbird
import DefenderHummingbirdDemoApp
import Foundation
import Hummingbird
import Logging

/// `defender-demo-hummingbird`: the same commands as `defender-demo`.
@main
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "defender-demo-hummingbird", abstract: "The Defender demo site on Hummingbird.",
        subcommands: [Serve.self, CreateUser.self, Operator.self], defaultSubcommand: Serve.self)

    /// Builds the demo, runs `body`, and turns a bad setting into one line saying what to fix.
    static func withDemo(_ body: (HummingbirdDemo) async throws -> Void) async throws {
        var logger = Logger(label: "defender-demo")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let demo: HummingbirdDemo
        do {
            demo = try await HummingbirdDemo.make(logger: logger)
        } catch {
            fail(error)
        }
        do {
            try await body(demo)
        } catch {
            await demo.shutdown()
            fail(error)
        }
    }

    static func fail(_ error: any Error) -> Never {
        let message = (error as? DefenderError)?.description ?? (error as? any LocalizedError)?.errorDescription ?? String(describing: error)
        FileHandle.standardError.write(Data("defender-demo-hummingbird: \(message)\n".utf8))
        Foundation.exit(1)
    }
}

/// `serve [--hostname 127.0.0.1] [--port 8080]`: SIGTERM and SIGINT stop it gracefully (audit rows flushed).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serves the demo site.")
    @Option(name: [.customShort("H"), .long], help: "The address to listen on.") var hostname = "127.0.0.1"
    @Option(name: [.short, .long], help: "The port to listen on.") var port = 8080

    func run() async throws {
        try await DemoCommand.withDemo { demo in
            try await demo.application(hostname: hostname, port: port).runService()
        }
    }
}

/// `create-user NAME PASSWORD [--admin] [--email ADDRESS]`.
struct CreateUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create-user", abstract: "Adds a user to the demo's database.")
    @Argument(help: "The username.") var name: String
    @Argument(help: "The password.") var password: String
    @Flag(help: "Make the user an administrator.") var admin = false
    @Option(help: "The address unlock e-mails go to.") var email: String?

    func run() async throws {
        try await DemoCommand.withDemo { demo in
            try await demo.createUser(name: name, password: password, admin: admin, email: email)
            await demo.shutdown()
            print(DemoAccounts.createdMessage(name: name, admin: admin))
        }
    }
}

/// `defender cleanup | blocks | block | unblock | deny | undeny | denylist | share | unshare | shared-ranges`.
struct Operator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "defender", abstract: "Defender's operator commands.",
        subcommands: [
            Cleanup.self, Blocks.self, Block.self, Unblock.self, Deny.self, Undeny.self, Denylist.self, Share.self, Unshare.self,
            SharedRanges.self,
        ])

    static func run(_ body: @escaping @Sendable (OperatorCommands) async throws -> String) async throws {
        try await DemoCommand.withDemo { demo in
            let text = try await demo.runOperatorCommand(body)
            await demo.shutdown()
            print(text)
        }
    }

    struct Cleanup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deletes access attempts older than DEFENDER_ACCESS_ATTEMPT_EXPIRATION.")
        func run() async throws { try await Operator.run { try await $0.cleanup() } }
    }

    struct Blocks: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lists blocked IPs and usernames.")
        @Flag(help: "Print JSON, as the admin API's /blocks.") var json = false
        func run() async throws {
            let json = json
            try await Operator.run { try await $0.blocks(json: json) }
        }
    }

    struct Block: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Blocks an IP or a username.")
        @Option(help: "An IP address, or an IPv6 group such as 2001:db8::/64.") var ip: String?
        @Option(help: "A username.") var username: String?
        @Option(help: "How long; without it the block is permanent.") var seconds: Int?
        func run() async throws {
            let (ip, username, seconds) = (ip, username, seconds)
            try await Operator.run { try await $0.block(ip: ip, username: username, seconds: seconds) }
        }
    }

    struct Unblock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lifts the block of an IP or a username.")
        @Option(help: "An IP address, or an IPv6 group such as 2001:db8::/64.") var ip: String?
        @Option(help: "A username.") var username: String?
        func run() async throws {
            let (ip, username) = (ip, username)
            try await Operator.run { try await $0.unblock(ip: ip, username: username) }
        }
    }

    struct Deny: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Adds a range to the stored deny list.")
        @Argument(help: "An address or CIDR range, such as 203.0.113.0/24 or 2001:db8::/32.") var network: String
        @Option(help: "Why, for the next operator.") var note: String?
        func run() async throws {
            let (network, note) = (network, note)
            try await Operator.run { try await $0.deny(network, note: note) }
        }
    }

    struct Undeny: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Removes a range from the stored deny list.")
        @Argument(help: "A range on the stored deny list.") var network: String
        func run() async throws {
            let network = network
            try await Operator.run { try await $0.undeny(network) }
        }
    }

    struct Denylist: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lists the stored deny list.")
        @Flag(help: "Print JSON, as the admin API's /denylist.") var json = false
        func run() async throws {
            let json = json
            try await Operator.run { try await $0.denylist(json: json) }
        }
    }

    struct Share: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Adds a stored shared range: its clients are counted by address and username.")
        @Argument(help: "An address or CIDR range, such as 203.0.113.0/24 or 2001:db8::/32.") var network: String
        @Option(help: "Why, for the next operator.") var note: String?
        func run() async throws {
            let (network, note) = (network, note)
            try await Operator.run { try await $0.share(network, note: note) }
        }
    }

    struct Unshare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Removes a stored shared range.")
        @Argument(help: "A stored shared range.") var network: String
        func run() async throws {
            let network = network
            try await Operator.run { try await $0.unshare(network) }
        }
    }

    struct SharedRanges: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "shared-ranges", abstract: "Lists the stored shared ranges.")
        @Flag(help: "Print JSON, as the admin API's /shared-ranges.") var json = false
        func run() async throws {
            let json = json
            try await Operator.run { try await $0.sharedRanges(json: json) }
        }
    }
}
