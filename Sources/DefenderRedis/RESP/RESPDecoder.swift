import NIOCore

/// An incremental RESP2/RESP3 decoder.
///
/// It reads on a copy of the buffer and moves the reader index only after a whole reply, so a reply split
/// anywhere across reads is simply "not yet". Malformed input throws ``RedisError`` with code
/// ``RedisError/Code/protocolError``; it never traps. Nesting depth and bulk lengths are bounded.
@_spi(Internals) public struct RESPDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = RESPValue

    /// The deepest nesting accepted.
    public var maximumDepth = 32
    /// The longest bulk string accepted (our replies are small; Redis's own limit is 512 MB).
    public var maximumBulkLength = 8 * 1024 * 1024
    /// The most elements accepted in one aggregate (a page of blocks is a few hundred).
    public var maximumElements = 65_536
    /// The most bytes waiting for one reply (see `RedisConnection`): each read parses the reply from its start, so
    /// without this cap a server (or anyone between it and a plain `redis://` client) that streams one endless
    /// aggregate would cost work that grows with the square of its size on the event loop.
    public static let maximumReplyBytes = 8 * 1024 * 1024

    public init() {}

    public mutating func decode(buffer: inout ByteBuffer) throws -> RESPValue? {
        var copy = buffer
        guard let value = try parse(&copy, depth: 0) else { return nil }
        buffer = copy
        return value
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> RESPValue? {
        try decode(buffer: &buffer)
    }

    private func parse(_ buffer: inout ByteBuffer, depth: Int) throws -> RESPValue? {
        guard depth <= maximumDepth else { throw RedisError(.protocolError, "reply nested deeper than \(maximumDepth)") }
        guard let type = buffer.readInteger(as: UInt8.self) else { return nil }
        switch type {
        case UInt8(ascii: "+"):
            return try readLine(&buffer).map { .simpleString($0) }
        case UInt8(ascii: "-"):
            return try readLine(&buffer).map { .error($0) }
        case UInt8(ascii: ":"):
            guard let line = try readLine(&buffer) else { return nil }
            guard let value = Int64(line) else { throw RedisError(.protocolError, "bad integer reply") }
            return .integer(value)
        case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
            guard let length = try readLength(&buffer) else { return nil }
            if length == -1 {
                guard type == UInt8(ascii: "$") else { throw RedisError(.protocolError, "negative length") }
                return .bulkString(nil)
            }
            guard length <= maximumBulkLength else { throw RedisError(.protocolError, "bulk string longer than \(maximumBulkLength)") }
            guard buffer.readableBytes >= length + 2 else { return nil }
            let bytes = buffer.readSlice(length: length)!
            guard buffer.readInteger(as: UInt16.self) == 0x0D0A else { throw RedisError(.protocolError, "bulk string not ended by CRLF") }
            switch type {
            case UInt8(ascii: "!"): return .error(String(buffer: bytes))
            case UInt8(ascii: "="):
                // "txt:" and the like: a three-letter format and a colon come first.
                guard bytes.readableBytes >= 4 else { throw RedisError(.protocolError, "verbatim string without format") }
                return .verbatimString(bytes.getSlice(at: bytes.readerIndex + 4, length: bytes.readableBytes - 4)!)
            default: return .bulkString(bytes)
            }
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
            guard let count = try readLength(&buffer) else { return nil }
            if count == -1 {
                guard type == UInt8(ascii: "*") else { throw RedisError(.protocolError, "negative length") }
                return .array(nil)
            }
            guard count <= maximumElements else { throw RedisError(.protocolError, "aggregate of more than \(maximumElements) elements") }
            let isMap = type == UInt8(ascii: "%") || type == UInt8(ascii: "|")
            var values: [RESPValue] = []
            values.reserveCapacity(min(isMap ? count * 2 : count, 1024))
            for _ in 0..<(isMap ? count * 2 : count) {
                guard let value = try parse(&buffer, depth: depth + 1) else { return nil }
                values.append(value)
            }
            switch type {
            case UInt8(ascii: "~"): return .set(values)
            case UInt8(ascii: ">"): return .push(values)
            case UInt8(ascii: "%"):
                return .map(stride(from: 0, to: values.count, by: 2).map { (values[$0], values[$0 + 1]) })
            case UInt8(ascii: "|"):
                // An attribute annotates the reply that follows it; we have no use for it.
                return try parse(&buffer, depth: depth + 1)
            default: return .array(values)
            }
        case UInt8(ascii: "_"):
            guard let line = try readLine(&buffer) else { return nil }
            guard line.isEmpty else { throw RedisError(.protocolError, "bad null reply") }
            return .null
        case UInt8(ascii: "#"):
            guard let line = try readLine(&buffer) else { return nil }
            switch line {
            case "t": return .boolean(true)
            case "f": return .boolean(false)
            default: throw RedisError(.protocolError, "bad boolean reply")
            }
        case UInt8(ascii: ","):
            guard let line = try readLine(&buffer) else { return nil }
            switch line.lowercased() {
            case "inf": return .double(.infinity)
            case "-inf": return .double(-.infinity)
            case "nan": return .double(.nan)
            default:
                guard let value = Double(line) else { throw RedisError(.protocolError, "bad double reply") }
                return .double(value)
            }
        case UInt8(ascii: "("):
            guard let line = try readLine(&buffer) else { return nil }
            guard !line.isEmpty, line.drop(while: { $0 == "-" || $0 == "+" }).allSatisfy(\.isNumber) else {
                throw RedisError(.protocolError, "bad big number reply")
            }
            return .bigNumber(line)
        default:
            throw RedisError(.protocolError, "unknown reply type byte \(type)")
        }
    }

    /// A CRLF-terminated line, or `nil` when the CRLF has not arrived. Lines are short; a long one is an attack.
    private func readLine(_ buffer: inout ByteBuffer) throws -> String? {
        let view = buffer.readableBytesView
        guard let cr = view.firstIndex(of: UInt8(ascii: "\r")) else {
            if view.count > 64 * 1024 { throw RedisError(.protocolError, "line longer than 64 KB") }
            return nil
        }
        let length = cr - view.startIndex
        guard buffer.readableBytes >= length + 2 else { return nil }
        guard buffer.getInteger(at: buffer.readerIndex + length + 1, as: UInt8.self) == UInt8(ascii: "\n") else {
            throw RedisError(.protocolError, "CR not followed by LF")
        }
        let line = buffer.readString(length: length)!
        buffer.moveReaderIndex(forwardBy: 2)
        return line
    }

    private func readLength(_ buffer: inout ByteBuffer) throws -> Int? {
        guard let line = try readLine(&buffer) else { return nil }
        guard let value = Int(line), value >= -1, line.count <= 12 else { throw RedisError(.protocolError, "bad length") }
        return value
    }
}
