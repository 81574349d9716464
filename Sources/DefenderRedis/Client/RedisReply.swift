/// A script's reply as the store reads it: the RESP types a Lua script can return, in a form any Redis client's
/// reply converts to.
public indirect enum RedisReply: Sendable, Hashable {
    /// An integer (a Lua number, or `true`: 1).
    case integer(Int64)
    /// A simple or bulk string.
    case string(String)
    /// An array (a Lua table). Convert a RESP3 map or set to the array of its elements.
    case array([RedisReply])
    /// A null bulk string or array (a Lua `false` or `nil`).
    case null
    /// An error reply nested in an array (a script's own top-level error is thrown as ``RedisError``).
    case error(String)

    /// The value as text, for strings.
    public var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The value as an integer, for integers and numeric strings.
    public var int: Int64? {
        switch self {
        case .integer(let value): value
        case .string(let text): Int64(text)
        default: nil
        }
    }

    /// The elements of an array.
    public var elements: [RedisReply]? {
        if case .array(let values) = self { return values }
        return nil
    }
}
