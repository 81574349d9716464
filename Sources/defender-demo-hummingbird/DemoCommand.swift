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

/// `defender cleanup | blocks | block | unblock | deny | undeny | denylist | share | unshare | shared-ranges`: the
/// words after `defender` go to `OperatorCommandLine`, the command line every integration shares.
struct Operator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "defender", abstract: "Defender's operator commands.", discussion: "Commands:\n" + OperatorCommandLine.summary)

    @Argument(parsing: .captureForPassthrough, help: "A command and its options, such as: block --ip 192.0.2.1 --seconds 600.")
    var words: [String] = []

    func run() async throws {
        let words = words
        if let name = words.first, words.contains("--help") || words.contains("-h") {
            print(OperatorCommandLine.command(named: name)?.usage ?? OperatorCommandLine.summary)
            return
        }
        try await DemoCommand.withDemo { demo in
            let text = try await demo.runOperatorCommand { try await OperatorCommandLine.run(words, with: $0) }
            await demo.shutdown()
            print(text)
        }
    }
}
