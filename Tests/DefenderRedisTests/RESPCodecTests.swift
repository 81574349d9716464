import DefenderTesting
@_spi(Internals) import DefenderRedis
import NIOCore
import Testing

@Suite struct RESPCodecTests {
    /// Every sample and its decoded twin are equal and hash alike (values are cached and compared in sets), and
    /// distinct samples stay distinct in a set.
    @Test func equalValuesHashAlike() throws {
        for (wire, value) in Self.samples {
            let decoded = try #require(try decodeAll(Array(wire.utf8)).first, "\(wire)")
            #expect(decoded == value && decoded.hashValue == value.hashValue, "\(wire)")
        }
        let distinct = Self.samples.map(\.1).reduce(into: [RESPValue]()) { unique, value in
            if !unique.contains(value) { unique.append(value) }
        }
        #expect(Set(distinct).count == distinct.count)
    }

    static let samples: [(String, RESPValue)] = [
        ("+OK\r\n", .simpleString("OK")),
        ("-ERR unknown command\r\n", .error("ERR unknown command")),
        (":-42\r\n", .integer(-42)),
        ("$5\r\nhello\r\n", .bulkString(ByteBuffer(string: "hello"))),
        ("$0\r\n\r\n", .bulkString(ByteBuffer())),
        ("$-1\r\n", .bulkString(nil)),
        ("*-1\r\n", .array(nil)),
        ("*0\r\n", .array([])),
        ("*3\r\n:1\r\n*2\r\n+a\r\n$-1\r\n$3\r\nb\r\n\r\n", .array([.integer(1), .array([.simpleString("a"), .bulkString(nil)]), .bulkString(ByteBuffer(string: "b\r\n"))])),
        ("_\r\n", .null),
        ("#t\r\n", .boolean(true)),
        ("#f\r\n", .boolean(false)),
        (",3.5\r\n", .double(3.5)),
        (",-inf\r\n", .double(-.infinity)),
        ("(3492890328409238509324850943850943825024385\r\n", .bigNumber("3492890328409238509324850943850943825024385")),
        ("!21\r\nSYNTAX invalid syntax\r\n", .error("SYNTAX invalid syntax")),
        ("=15\r\ntxt:Some string\r\n", .verbatimString(ByteBuffer(string: "Some string"))),
        ("%1\r\n+key\r\n:1\r\n", .map([(.simpleString("key"), .integer(1))])),
        ("~2\r\n+a\r\n+b\r\n", .set([.simpleString("a"), .simpleString("b")])),
        (">2\r\n+message\r\n+hi\r\n", .push([.simpleString("message"), .simpleString("hi")])),
        ("|1\r\n+ttl\r\n:3\r\n+OK\r\n", .simpleString("OK")),
    ]

    func decodeAll(_ bytes: [UInt8]) throws -> [RESPValue] {
        var decoder = RESPDecoder()
        var buffer = ByteBuffer(bytes: bytes)
        var values: [RESPValue] = []
        while let value = try decoder.decode(buffer: &buffer) { values.append(value) }
        #expect(buffer.readableBytes == 0)
        return values
    }

    @Test func everyType() throws {
        for (wire, expected) in Self.samples {
            #expect(try decodeAll(Array(wire.utf8)) == [expected], "\(wire.debugDescription)")
        }
    }

    // Every split point of every reply: nothing before the last byte, exactly the value after it.
    @Test func everySplitPoint() throws {
        for (wire, expected) in Self.samples {
            let bytes = Array(wire.utf8)
            for split in 0..<bytes.count {
                var decoder = RESPDecoder()
                var buffer = ByteBuffer(bytes: bytes[..<split])
                #expect(try decoder.decode(buffer: &buffer) == nil, "\(wire.debugDescription) split at \(split)")
                #expect(buffer.readableBytes == split)
                buffer.writeBytes(bytes[split...])
                #expect(try decoder.decode(buffer: &buffer) == expected)
                #expect(buffer.readableBytes == 0)
            }
        }
    }

    @Test(arguments: [
        "?huh\r\n", ":12a\r\n", "$abc\r\n", "$-2\r\n", "*-5\r\n", "$3\r\nabcd\r\n", "#x\r\n", ",pi\r\n", "_x\r\n",
        "(12a\r\n", "+OK\rX", "~-1\r\n", "=2\r\nab\r\n", "$99999999999999\r\n", "!-1\r\n",
    ])
    func malformedThrows(_ wire: String) {
        #expect(throws: RedisError.self) { try decodeAll(Array(wire.utf8)) }
    }

    @Test func limits() {
        let deep = String(repeating: "*1\r\n", count: 40) + ":1\r\n"
        #expect(throws: RedisError.self) { try decodeAll(Array(deep.utf8)) }
        var decoder = RESPDecoder()
        decoder.maximumBulkLength = 10
        var buffer = ByteBuffer(string: "$11\r\n")
        #expect(throws: RedisError.self) { try decoder.decode(buffer: &buffer) }
        var long = ByteBuffer(string: "+" + String(repeating: "a", count: 70_000))
        #expect(throws: RedisError.self) { try RESPDecoder().decodeCopy(&long) }
        // An aggregate larger than any reply Defender reads, and a bulk string over 8 MB, are refused at their
        // header: a hostile server cannot make the decoder wait for (and re-parse) millions of elements.
        var huge = ByteBuffer(string: "*65537\r\n")
        #expect(throws: RedisError.self) { try RESPDecoder().decodeCopy(&huge) }
        var bulk = ByteBuffer(string: "$8388609\r\n")
        #expect(throws: RedisError.self) { try RESPDecoder().decodeCopy(&bulk) }
        #expect(RESPDecoder.maximumReplyBytes == 8 * 1024 * 1024)
    }

    @Test func commandEncoding() {
        var buffer = ByteBuffer()
        RESPEncoder.encode(["SET", "ключ", ""], into: &buffer)
        #expect(String(buffer: buffer) == "*3\r\n$3\r\nSET\r\n$8\r\nключ\r\n$0\r\n\r\n")
    }

    /// The size a command's buffer is allocated at is exactly what encoding it writes, and the bytes are the
    /// command as an array of bulk strings (the reply encoder, written separately): random commands of 0–40
    /// arguments, each empty to 200 characters of ASCII and multi-byte text, so that counts and lengths cross
    /// every digit boundary up to three digits.
    @Test func commandsEncodeExactlyAtTheirSize() {
        var generator = SplitMix64(seed: 0x5123)
        let alphabet: [Character] = ["a", "Z", "0", "\r", "\n", "$", "*", "é", "ключ".first!, "🔑"]
        for _ in 0..<2_000 {
            let arguments = (0..<Int.random(in: 0...40, using: &generator)).map { _ in
                String((0..<Int.random(in: 0...200, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            }
            var buffer = ByteBuffer(string: "prefix")
            RESPEncoder.encode(arguments, into: &buffer)
            #expect(RESPEncoder.encodedSize(of: arguments) == buffer.readableBytes - 6, "\(arguments.map(\.utf8.count))")
            // The same bytes as the protocol's own description of a command: an array of bulk strings.
            var expected = ByteBuffer(string: "prefix")
            RESPEncoder.encode(.array(arguments.map { .bulkString(ByteBuffer(string: $0)) }), into: &expected)
            #expect(buffer == expected)
        }
    }

    // Property test: random values survive encode → decode, whole and split at a random point.
    @Test func encodeDecodeRoundTrip() throws {
        var generator = SplitMix64(seed: 0xDEFE)
        for _ in 0..<2_000 {
            let value = randomValue(&generator, depth: 0)
            var buffer = ByteBuffer()
            RESPEncoder.encode(value, into: &buffer)
            let bytes = Array(buffer.readableBytesView)
            let split = Int.random(in: 0...bytes.count, using: &generator)
            var decoder = RESPDecoder()
            var partial = ByteBuffer(bytes: bytes[..<split])
            var decoded = try decoder.decode(buffer: &partial)
            if decoded == nil {
                partial.writeBytes(bytes[split...])
                decoded = try decoder.decode(buffer: &partial)
            }
            #expect(decoded == value)
        }
    }

    func randomValue(_ generator: inout SplitMix64, depth: Int) -> RESPValue {
        let choice = Int.random(in: 0..<(depth < 3 ? 12 : 8), using: &generator)
        func text() -> String {
            String((0..<Int.random(in: 0..<12, using: &generator)).map { _ in "ab:\r\n é😀".randomElement(using: &generator)! })
        }
        func line() -> String { text().filter { $0 != "\r" && $0 != "\n" && $0 != "\r\n" } }
        switch choice {
        case 0: return .simpleString(line())
        case 1: return .error(line())
        case 2: return .integer(Int64.random(in: .min ... .max, using: &generator))
        case 3: return .bulkString(Bool.random(using: &generator) ? nil : ByteBuffer(string: text()))
        case 4: return .null
        case 5: return .boolean(Bool.random(using: &generator))
        case 6: return .double(Double(Int.random(in: -1000...1000, using: &generator)) / 8)
        case 7: return .verbatimString(ByteBuffer(string: text()))
        case 8: return .array((0..<Int.random(in: 0..<4, using: &generator)).map { _ in randomValue(&generator, depth: depth + 1) })
        case 9: return .set((0..<Int.random(in: 0..<4, using: &generator)).map { _ in randomValue(&generator, depth: depth + 1) })
        case 10: return .push((0..<Int.random(in: 1..<4, using: &generator)).map { _ in randomValue(&generator, depth: depth + 1) })
        default: return .map((0..<Int.random(in: 0..<3, using: &generator)).map { _ in (randomValue(&generator, depth: depth + 1), randomValue(&generator, depth: depth + 1)) })
        }
    }
}

extension RESPDecoder {
    func decodeCopy(_ buffer: inout ByteBuffer) throws -> RESPValue? {
        var decoder = self
        return try decoder.decode(buffer: &buffer)
    }
}
