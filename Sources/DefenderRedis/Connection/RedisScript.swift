import DefenderCore
import Crypto

/// A Lua script and its SHA-1, for `EVALSHA` with an `EVAL` fallback.
public struct RedisScript: Sendable, Hashable {
    /// The Lua source.
    public let source: String
    /// Lower-case hex SHA-1 of the source, as Redis names cached scripts.
    public let sha1: String

    /// A script from its Lua source; the SHA-1 is computed here.
    /// - Parameter source: the Lua source.
    public init(_ source: String) {
        self.source = source
        self.sha1 = Insecure.SHA1.hash(data: Array(source.utf8)).hexEncoded
    }

    /// `EVALSHA sha numkeys key… arg…`, or `EVAL source …` with `withSource`, built in one array of its final size.
    func command(keys: [String], arguments: [String], withSource: Bool = false) -> [String] {
        var command: [String] = []
        command.reserveCapacity(3 + keys.count + arguments.count)
        command.append(withSource ? "EVAL" : "EVALSHA")
        command.append(withSource ? source : sha1)
        command.append(String(keys.count))
        command.append(contentsOf: keys)
        command.append(contentsOf: arguments)
        return command
    }
}
