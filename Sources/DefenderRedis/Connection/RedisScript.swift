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
}
