import NIOCore

/// Writes commands as RESP arrays of bulk strings. Several commands in one buffer are a pipeline.
@_spi(Internals) public enum RESPEncoder {
    /// Appends one command (`["SET", "k", "v"]`) to `buffer`.
    ///
    /// The whole command is written in one pass into space reserved once (`encodedSize(of:)`): a script's call
    /// has 20–30 arguments, and writing each piece through `ByteBuffer`'s checked writes was 8 % of the client's
    /// CPU per script in a profile of `Benchmarks/run-redis-cpu`.
    public static func encode(_ arguments: [String], into buffer: inout ByteBuffer) {
        encode(arguments, size: encodedSize(of: arguments), into: &buffer)
    }

    /// Appends one command whose `encodedSize(of:)` the caller already computed (to size the buffer it writes into).
    static func encode(_ arguments: [String], size: Int, into buffer: inout ByteBuffer) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { output in
            var writer = RawWriter(base: output.baseAddress!, capacity: size)
            writer.header(UInt8(ascii: "*"), arguments.count)
            for argument in arguments {
                var argument = argument
                argument.withUTF8 { bytes in
                    writer.header(UInt8(ascii: "$"), bytes.count)
                    writer.copy(bytes)
                    writer.crlf()
                }
            }
            precondition(writer.written == size, "RESPEncoder.encodedSize disagrees with encode")
            return writer.written
        }
    }

    /// Writes into space already reserved: `encodedSize(of:)` bytes. Every write checks that it fits first, so that
    /// a size that ever disagreed with the bytes would stop the process instead of writing past the space.
    private struct RawWriter {
        let base: UnsafeMutableRawPointer
        let capacity: Int
        var written = 0

        private func reserve(_ count: Int) {
            precondition(written + count <= capacity, "RESPEncoder.encodedSize disagrees with encode")
        }

        /// `*3\r\n` or `$5\r\n`.
        mutating func header(_ type: UInt8, _ value: Int) {
            let digits = RESPEncoder.decimalDigits(value)
            reserve(1 + digits + 2)
            base.storeBytes(of: type, toByteOffset: written, as: UInt8.self)
            written += 1
            var rest = value
            for offset in stride(from: digits - 1, through: 0, by: -1) {
                base.storeBytes(of: UInt8(truncatingIfNeeded: 48 + rest % 10), toByteOffset: written + offset, as: UInt8.self)
                rest /= 10
            }
            written += digits
            crlf()
        }

        mutating func copy(_ bytes: UnsafeBufferPointer<UInt8>) {
            guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
            reserve(bytes.count)
            (base + written).copyMemory(from: source, byteCount: bytes.count)
            written += bytes.count
        }

        mutating func crlf() {
            reserve(2)
            base.storeBytes(of: UInt8(ascii: "\r"), toByteOffset: written, as: UInt8.self)
            base.storeBytes(of: UInt8(ascii: "\n"), toByteOffset: written + 1, as: UInt8.self)
            written += 2
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
