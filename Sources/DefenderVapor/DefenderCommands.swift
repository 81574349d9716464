import DefenderHTTP
import Vapor

/// `defender cleanup | blocks | block | unblock | deny | undeny | denylist | share | unshare | shared-ranges`:
/// django-defender's management commands and ours, as one Vapor command group. The commands, their options and
/// their parsing are `DefenderHTTP`'s, the same in every integration; this type hands them the words and prints.
/// Register with `DefenderSupport/useCommands()`.
public struct DefenderCommands: AsyncCommandGroup {
    public var help: String { "Defender: audit-log cleanup and block management." }

    /// The subcommands, by name.
    public var commands: [String: any AnyAsyncCommand] {
        Dictionary(uniqueKeysWithValues: OperatorCommandLine.all.map { ($0.name, OperatorCommand(name: $0.name) as any AnyAsyncCommand) })
    }

    /// The `defender` command group.
    public init() {}
}

extension DefenderSupport {
    /// Registers `defender cleanup | blocks | block | unblock | deny | undeny | denylist | share | unshare | shared-ranges`.
    public func useCommands() {
        application.asyncCommands.use(DefenderCommands(), as: "defender")
    }
}

/// One operator command: the words after its name go to `OperatorCommandLine`, and what it returns is printed.
struct OperatorCommand: AnyAsyncCommand {
    let name: String

    var help: String { OperatorCommandLine.command(named: name)?.help ?? "" }

    func run(using context: inout CommandContext) async throws {
        let words = context.input.arguments
        context.input.arguments = []
        if words.contains("--help") || words.contains("-h") { return outputHelp(using: &context) }
        let commands = OperatorCommands(try context.application.defender.operations())
        context.console.print(try await OperatorCommandLine.run([name] + words, with: commands))
    }

    func outputHelp(using context: inout CommandContext) {
        context.console.print(OperatorCommandLine.command(named: name)?.usage ?? "")
    }
}
