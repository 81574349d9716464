import NIOCore
import Synchronization

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
    /// The STARTTLS step of this connection (see ``StartTLSGuard``).
    let startTLS: StartTLSGuard

    init(startTLS: StartTLSGuard = StartTLSGuard()) {
        self.startTLS = startTLS
    }

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        // Bytes after the server's "220" to STARTTLS and before the handshake were not sent under TLS: read after it
        // as replies, they would let a man in the middle answer for the server (reply injection).
        if startTLS.isReady, buffer.readableBytes > 0 {
            startTLS.violated()
            throw Malformed(description: "data after agreeing to STARTTLS and before the TLS handshake (possible reply injection)")
        }
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
        startTLS.replyDecoded()
        context.fireChannelRead(Self.wrapInboundOut(reply))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue, buffer.readableBytes > 0 {}
        return .needMoreData
    }
}

/// Where a connection is in its STARTTLS step, shared by the session and the reply decoder: armed when the session
/// sends `STARTTLS`, ready once the server's reply is decoded, secured once the TLS handler is in the pipeline. While
/// it is ready, any byte that arrives is refused (RFC 3207 §4: nothing may follow the reply before the handshake).
final class StartTLSGuard: Sendable {
    enum State { case plain, awaitingReply, ready, secured, violated }

    private let state = Mutex(State.plain)

    /// `STARTTLS` is about to be sent: its reply is the next one.
    func arm() { state.withLock { $0 = .awaitingReply } }

    /// A reply was decoded: if it was STARTTLS's, the connection must now stay silent until the handshake.
    func replyDecoded() { state.withLock { if $0 == .awaitingReply { $0 = .ready } } }

    /// The TLS handler is in place: bytes from now on are decrypted by it first. A violation stays recorded.
    func secure() { state.withLock { if $0 == .ready { $0 = .secured } } }

    /// Bytes arrived while it was ready: the connection is closed, and the mail fails saying why.
    func violated() { state.withLock { $0 = .violated } }

    var isReady: Bool { state.withLock { $0 == .ready } }

    /// Whether bytes arrived between the reply and the handshake (the connection's other errors follow from it).
    var wasViolated: Bool { state.withLock { $0 == .violated } }
}
