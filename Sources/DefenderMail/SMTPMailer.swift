import DefenderCore
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// Sends e-mail over SMTP (`DEFENDER_SMTP_URL`): a small client on SwiftNIO and swift-nio-ssl.
///
/// One connection per message: greeting, `EHLO`, `STARTTLS` when the server offers it (required before a password
/// is sent, unless the URL says `?tls=none`), `AUTH PLAIN` or `AUTH LOGIN` when the URL has credentials, `MAIL`,
/// `RCPT`, `DATA` with dot-stuffing, `QUIT`. Every step runs under one deadline; the client refuses over-long
/// lines and replies. Errors name the step and the server's reply, never the password or the message.
///
/// ```swift
/// let mailer = SMTPMailer(server: try SMTPServerURL("smtp://mailer:secret@mail.example.com:587"))
/// try await mailer.send(DefenderMailMessage(from: "security@example.com", to: "alice@example.com",
///                                           subject: "Hello", text: "…"))
/// ```
public struct SMTPMailer: DefenderMailer {
    /// The server, its credentials and its TLS settings.
    public let server: SMTPServerURL
    /// The name this client gives in `EHLO`.
    public let clientName: String
    /// The longest a connection may take to open.
    public let connectTimeout: Duration
    /// The longest a whole message may take, from connecting to the server's acceptance.
    public let timeout: Duration
    private let group: any EventLoopGroup

    /// A mailer for `server`.
    /// - Parameters:
    ///   - server: from `DEFENDER_SMTP_URL`.
    ///   - clientName: the host name given in `EHLO`.
    ///   - connectTimeout: the longest a connection may take to open.
    ///   - timeout: the longest one message may take in all.
    ///   - group: the event loops to run on.
    public init(
        server: SMTPServerURL, clientName: String = "localhost", connectTimeout: Duration = .seconds(10), timeout: Duration = .seconds(30),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.server = server
        self.clientName = clientName
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.group = group
    }

    /// Sends one message.
    /// - Throws: `DefenderError` with code `mailFailed`: what failed, and the server's reply if it gave one.
    public func send(_ message: DefenderMailMessage) async throws {
        guard MailAddress.isValid(message.from), MailAddress.isValid(message.to) else {
            throw DefenderError(.mailFailed, "the sender or the recipient is not a valid e-mail address")
        }
        let context = try makeTLSContext()
        let channel: NIOAsyncChannel<SMTPReply, ByteBuffer>
        let startTLSGuard = StartTLSGuard()
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.nanoseconds(Int64(connectTimeout.components.seconds) * 1_000_000_000 + connectTimeout.components.attoseconds / 1_000_000_000))
                .connect(host: server.host, port: server.port) { [server] channel in
                    channel.eventLoop.makeCompletedFuture {
                        if server.security == .implicitTLS, let context {
                            try channel.pipeline.syncOperations.addHandler(
                                NIOSSLClientHandler(context: context, serverHostname: Self.serverHostname(server.host)))
                        }
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPReplyDecoder(startTLS: startTLSGuard)))
                        return try NIOAsyncChannel<SMTPReply, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw DefenderError(.mailFailed, "cannot connect to the mail server \(server): \(Self.describe(error))")
        }
        let deadline = channel.channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)) { [channel] in
            channel.channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        do {
            try await channel.executeThenClose { inbound, outbound in
                var session = SMTPSession(
                    server: server, clientName: clientName, channel: channel.channel, tlsContext: context, startTLSGuard: startTLSGuard,
                    replies: inbound.makeAsyncIterator(), outbound: outbound)
                try await session.deliver(message)
            }
        } catch {
            // The decoder's refusal closes the connection, and whichever step was waiting fails with that closure:
            // say what happened first.
            if startTLSGuard.wasViolated {
                throw DefenderError(
                    .mailFailed,
                    "the mail server \(server) sent data after agreeing to STARTTLS, before the TLS handshake: refused (possible reply injection)")
            }
            if let error = error as? DefenderError { throw error }
            throw DefenderError(.mailFailed, "the mail server \(server) failed: \(Self.describe(error))")
        }
    }

    private func makeTLSContext() throws(DefenderError) -> NIOSSLContext? {
        guard server.security != .none else { return nil }
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let path = server.caCertificatesPath {
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(path))
            } catch {
                throw DefenderError(.mailFailed, "cannot read the CA certificates at \(path) (DEFENDER_SMTP_URL's ssl_ca_certs)")
            }
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw DefenderError(.mailFailed, "TLS set-up failed: \(Self.describe(error))")
        }
    }

    /// The name to verify the certificate against; `nil` for an address (SNI carries no IP literal; NIOSSL then
    /// checks the certificate against the address connected to).
    static func serverHostname(_ host: String) -> String? {
        host.contains(":") || host.split(separator: ".").allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) ? nil : host
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as DefenderError: error.message
        case let error as IOError: error.description
        case let error as ChannelError: "\(error)"
        case let error as NIOSSLError: "TLS: \(error)"
        case let error as BoringSSLError: "TLS: \(error)"
        case let error as SMTPReplyDecoder.Malformed: "the server sent \(error.description)"
        default: String(describing: type(of: error))
        }
    }
}
