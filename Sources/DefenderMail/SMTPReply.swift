import NIOCore

/// One SMTP reply: its code and its lines' text (a multi-line reply's lines in order).
struct SMTPReply: Sendable, Hashable {
    let code: Int
    let lines: [String]

    /// The reply as a log or error message shows it: the code, and the enhanced status code (`5.7.8`) when the
    /// first line starts with one. Not the server's text, which may quote the recipient's address or hold
    /// control characters.
    var summary: String {
        guard let first = lines.first?.split(separator: " ").first,
            first.split(separator: ".").count == 3, first.allSatisfy({ ("0"..."9").contains($0) || $0 == "." })
        else { return "\(code)" }
        return "\(code) \(first)"
    }
}

/// Decodes SMTP replies (RFC 5321 §4.2): `250-first line`, …, `250 last line`. Lines end with CRLF (a bare LF
/// is accepted); a line over 2,048 bytes or a reply over 100 lines is an error, so a hostile server cannot make
/// the client buffer without end.
struct SMTPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = SMTPReply

    private var pending: [String] = []
    private var pendingCode: Int?

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > 2048 { throw Malformed(description: "a reply line longer than 2048 bytes") }
            return .needMoreData
        }
        let length = newline - buffer.readerIndex
        guard length <= 2048, var line = buffer.readString(length: length) else { throw Malformed(description: "a reply line longer than 2048 bytes") }
        buffer.moveReaderIndex(forwardBy: 1)
        if line.hasSuffix("\r") { line.removeLast() }
        let bytes = Array(line.utf8)
        guard bytes.count >= 3, bytes[0...2].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let code = Int(String(decoding: bytes[0...2], as: UTF8.self)),
            bytes.count == 3 || bytes[3] == UInt8(ascii: " ") || bytes[3] == UInt8(ascii: "-")
        else { throw Malformed(description: "a line that is not an SMTP reply") }
        if let pendingCode, pendingCode != code { throw Malformed(description: "a multi-line reply whose codes differ") }
        pending.append(bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : "")
        guard pending.count <= 100 else { throw Malformed(description: "a reply of more than 100 lines") }
        if bytes.count > 3, bytes[3] == UInt8(ascii: "-") {
            pendingCode = code
            return .continue
        }
        let reply = SMTPReply(code: code, lines: pending)
        pending = []
        pendingCode = nil
        context.fireChannelRead(Self.wrapInboundOut(reply))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue, buffer.readableBytes > 0 {}
        return .needMoreData
    }
}
