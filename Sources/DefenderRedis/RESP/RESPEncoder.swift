import NIOCore

/// Writes commands as RESP arrays of bulk strings. Several commands in one buffer are a pipeline.
@_spi(Internals) public enum RESPEncoder {
    /// Appends one command (`["SET", "k", "v"]`) to `buffer`.
    public static func encode(_ arguments: [String], into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "*"))
        writeDecimal(arguments.count, into: &buffer)
        buffer.writeStaticString("\r\n")
        for argument in arguments {
            buffer.writeInteger(UInt8(ascii: "$"))
            writeDecimal(argument.utf8.count, into: &buffer)
            buffer.writeStaticString("\r\n")
            buffer.writeString(argument)
            buffer.writeStaticString("\r\n")
        }
    }

    /// The bytes `encode(_:into:)` writes for `arguments`, so that a buffer is allocated once at its size instead of
    /// growing (and copying) as a script's keys and arguments are written.
    public static func encodedSize(of arguments: [String]) -> Int {
        var size = 1 + decimalDigits(arguments.count) + 2
        for argument in arguments {
            let length = argument.utf8.count
            size += 1 + decimalDigits(length) + 2 + length + 2
        }
        return size
    }

    @inline(__always)
    static func decimalDigits(_ value: Int) -> Int {
        var digits = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        return digits
    }

    /// Writes a non-negative length in decimal without making a `String` (two allocations per argument saved).
    @inline(__always)
    static func writeDecimal(_ value: Int, into buffer: inout ByteBuffer) {
        if value < 10 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: 48 + value))
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var rest = value
            var index = 20
            repeat {
                index -= 1
                digits[index] = UInt8(truncatingIfNeeded: 48 + rest % 10)
                rest /= 10
            } while rest > 0
            buffer.writeBytes(UnsafeBufferPointer(rebasing: digits[index...]))
        }
    }

    /// Encodes a reply value (used by tests and tools; the client only sends commands).
    public static func encode(_ value: RESPValue, into buffer: inout ByteBuffer) {
        func line(_ type: Character, _ text: String) {
            buffer.writeString(String(type))
            buffer.writeString(text)
            buffer.writeStaticString("\r\n")
        }
        func bulk(_ type: Character, _ bytes: ByteBuffer) {
            line(type, String(bytes.readableBytes))
            var bytes = bytes
            buffer.writeBuffer(&bytes)
            buffer.writeStaticString("\r\n")
        }
        switch value {
        case .simpleString(let text): line("+", text)
        case .error(let text): line("-", text)
        case .integer(let number): line(":", String(number))
        case .bulkString(nil): line("$", "-1")
        case .bulkString(let bytes?): bulk("$", bytes)
        case .array(nil): line("*", "-1")
        case .array(let values?):
            line("*", String(values.count))
            for value in values { encode(value, into: &buffer) }
        case .null: line("_", "")
        case .boolean(let flag): line("#", flag ? "t" : "f")
        case .double(let number): line(",", number.isNaN ? "nan" : number == .infinity ? "inf" : number == -.infinity ? "-inf" : String(number))
        case .bigNumber(let text): line("(", text)
        case .verbatimString(let bytes):
            var framed = ByteBuffer(string: "txt:")
            var copy = bytes
            framed.writeBuffer(&copy)
            bulk("=", framed)
        case .map(let pairs):
            line("%", String(pairs.count))
            for (key, value) in pairs {
                encode(key, into: &buffer)
                encode(value, into: &buffer)
            }
        case .set(let values):
            line("~", String(values.count))
            for value in values { encode(value, into: &buffer) }
        case .push(let values):
            line(">", String(values.count))
            for value in values { encode(value, into: &buffer) }
        }
    }
}
