import NIOCore

/// A reply from a Redis server: every RESP2 type and the RESP3 ones, so that a server speaking RESP3 to us
/// never leaves a byte unparsed.
@_spi(Internals) public indirect enum RESPValue: Sendable, Hashable {
    /// `+OK`
    case simpleString(String)
    /// `-ERR …` (RESP2) or `!` (RESP3 blob error)
    case error(String)
    /// `:42`
    case integer(Int64)
    /// `$5\r\nhello` (`nil` for the RESP2 null bulk string `$-1`)
    case bulkString(ByteBuffer?)
    /// `*2\r\n…` (`nil` for the RESP2 null array `*-1`)
    case array([RESPValue]?)
    /// `_` (RESP3)
    case null
    /// `#t` / `#f` (RESP3)
    case boolean(Bool)
    /// `,3.14` (RESP3)
    case double(Double)
    /// `(123…` (RESP3), kept as text
    case bigNumber(String)
    /// `=txt:…` (RESP3)
    case verbatimString(ByteBuffer)
    /// `%` (RESP3), in wire order
    case map([(RESPValue, RESPValue)])
    /// `~` (RESP3)
    case set([RESPValue])
    /// `>` (RESP3)
    case push([RESPValue])

    /// The value as text, for simple and bulk strings.
    public var string: String? {
        switch self {
        case .simpleString(let text): return text
        case .bulkString(let buffer?): return String(buffer: buffer)
        case .verbatimString(let buffer): return String(buffer: buffer)
        default: return nil
        }
    }

    /// The value as an integer, for integers and numeric strings.
    public var int: Int64? {
        switch self {
        case .integer(let value): return value
        default: return string.flatMap { Int64($0) }
        }
    }

    /// The elements of an array, set or push.
    public var elements: [RESPValue]? {
        switch self {
        case .array(let values?), .set(let values), .push(let values): return values
        default: return nil
        }
    }

    public static func == (lhs: RESPValue, rhs: RESPValue) -> Bool {
        switch (lhs, rhs) {
        case (.simpleString(let a), .simpleString(let b)), (.error(let a), .error(let b)), (.bigNumber(let a), .bigNumber(let b)):
            return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.bulkString(let a), .bulkString(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.null, .null): return true
        case (.boolean(let a), .boolean(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.verbatimString(let a), .verbatimString(let b)): return a == b
        case (.map(let a), .map(let b)): return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case (.set(let a), .set(let b)), (.push(let a), .push(let b)): return a == b
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .simpleString(let text), .error(let text), .bigNumber(let text): hasher.combine(text)
        case .integer(let value): hasher.combine(value)
        case .bulkString(let buffer): hasher.combine(buffer)
        case .array(let values): hasher.combine(values)
        case .null: hasher.combine(0)
        case .boolean(let value): hasher.combine(value)
        case .double(let value): hasher.combine(value)
        case .verbatimString(let buffer): hasher.combine(buffer)
        case .map(let pairs): hasher.combine(pairs.count)
        case .set(let values), .push(let values): hasher.combine(values)
        }
    }
}
