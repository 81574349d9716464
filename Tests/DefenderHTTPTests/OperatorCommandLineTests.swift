import DefenderCore
import DefenderHTTP
import DefenderTesting
import Testing

/// The operator commands' one command line (both integrations hand it their words).
@Suite struct OperatorCommandLineTests {
    func parse(_ words: String...) throws -> OperatorCommandLine.Arguments {
        try OperatorCommandLine.parse(Array(words.dropFirst()), for: #require(OperatorCommandLine.command(named: words[0])))
    }

    func refusal(_ words: String...) -> String {
        do {
            _ = try OperatorCommandLine.parse(Array(words.dropFirst()), for: OperatorCommandLine.command(named: words[0])!)
            return ""
        } catch {
            return error.description
        }
    }

    @Test func readsOptionsFlagsAndArguments() throws {
        let block = try parse("block", "--ip", "192.0.2.1", "--seconds=600")
        #expect(block.value("ip") == "192.0.2.1" && block.integer("seconds") == 600 && block.value("username") == nil)
        let deny = try parse("deny", "203.0.113.0/24", "--note", "a scanner")
        #expect(deny.value("network") == "203.0.113.0/24" && deny.value("note") == "a scanner")
        #expect(try parse("blocks", "--json").flag("json"))
        #expect(try parse("blocks").flag("json") == false)
        // A value that looks like an option is still the option's value when the option needs one.
        #expect(try parse("block", "--username", "--json").value("username") == "--json")
    }

    @Test func mistakesAreNamedWithTheUsage() {
        #expect(refusal("block", "--address", "192.0.2.1").contains("has no option --address"))
        #expect(refusal("block", "--ip").contains("--ip needs a value"))
        #expect(refusal("block", "--ip", "192.0.2.1", "--seconds", "ten").contains("--seconds must be a whole number, not 'ten'"))
        #expect(refusal("deny").contains("needs NETWORK"))
        #expect(refusal("undeny", "a", "b").contains("takes no value 'b'"))
        #expect(refusal("blocks", "--json=yes").contains("--json is a flag"))
        #expect(refusal("block", "--nope").contains("defender block [--ip IP] [--username USERNAME] [--seconds SECONDS]"))
    }

    @Test func unknownCommandsListTheCommands() async throws {
        let engine = Defender(configuration: DefenderConfiguration())
        let commands = OperatorCommands(DefenderOperations(engine: engine, history: nil, denylist: nil, reload: { _ in }))
        for words in [[], ["frobnicate"]] {
            do {
                _ = try await OperatorCommandLine.run(words, with: commands)
                Issue.record("\(words) ran")
            } catch let error as DefenderCommandError {
                #expect(OperatorCommandLine.all.allSatisfy { error.description.contains($0.name) }, "\(error.description)")
            }
        }
    }

    /// Seeded random command lines over every command: each is either read — every value a declared parameter's,
    /// every integer a number, every argument present — or refused with a `DefenderCommandError`; and a valid
    /// line written either way (`--name value`, `--name=value`) reads the same.
    @Test func randomCommandLinesAreReadOrRefusedAndNeverMisread() {
        var random = SplitMix64(seed: 0x0DEF_E4DE)
        let vocabulary = ["--ip", "--username", "--seconds", "--note", "--json", "--ip=", "--seconds=12", "--x", "192.0.2.1", "12", "-5", "eve",
                          "2001:db8::/64", "", "=", "--", "--=", "ten"]
        var read = 0
        for _ in 0..<5_000 {
            let command = OperatorCommandLine.all[Int(random.next() % UInt64(OperatorCommandLine.all.count))]
            let words = (0..<Int(random.next() % 6)).map { _ in vocabulary[Int(random.next() % UInt64(vocabulary.count))] }
            guard let arguments = try? OperatorCommandLine.parse(words, for: command) else { continue }
            read += 1
            for parameter in command.parameters {
                switch parameter.kind {
                case .argument: #expect(arguments.value(parameter.name) != nil, "\(command.name) \(words)")
                case .integer: #expect(arguments.value(parameter.name) == nil || arguments.integer(parameter.name) != nil, "\(words)")
                case .flag, .option: break
                }
            }
            // Written the other way, the same reading.
            var rewritten: [String] = []
            for parameter in command.parameters {
                if parameter.kind == .flag, arguments.flag(parameter.name) { rewritten.append("--\(parameter.name)") }
                guard parameter.kind != .flag, let value = arguments.value(parameter.name) else { continue }
                rewritten += parameter.kind == .argument ? [value] : ["--\(parameter.name)=\(value)"]
            }
            let again = try? OperatorCommandLine.parse(rewritten, for: command)
            for parameter in command.parameters {
                #expect(again?.value(parameter.name) == arguments.value(parameter.name) && again?.flag(parameter.name) == arguments.flag(parameter.name),
                        "\(command.name) \(words) → \(rewritten)")
            }
        }
        #expect(read > 300, "too few random lines were valid to test anything: \(read)")
    }
}
