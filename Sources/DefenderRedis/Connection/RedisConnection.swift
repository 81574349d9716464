import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// One pipelined connection to Redis, authenticated and on the right database before it accepts a command.
@_spi(Internals) public final class RedisConnection: Sendable {
    let channel: any Channel
    /// Commands written by callers off the event loop, waiting for the loop to send them (`CommandOutbox`).
    private let outbox = CommandOutbox()

    private init(channel: any Channel) {
        self.channel = channel
    }

    /// Whether the connection can still carry commands.
    public var isActive: Bool { channel.isActive }

    /// The server's port (TCP), for tests that open a second connection to the same server.
    public var port: Int? { channel.remoteAddress?.port }

    /// Connects, runs the handshake (`AUTH`, `SELECT`, `CLIENT SETNAME`, `SCRIPT LOAD` of `scripts`, pipelined in one
    /// round trip) and returns a ready connection.
    /// - Parameters:
    ///   - scripts: loaded into the server's script cache before the first command, so that even the first
    ///   `EVALSHA` finds its script.
    ///   - requirePrimary: the handshake also asks `ROLE` and refuses a server that is not a primary (the address
    ///   Sentinel gave may be out of date by the time we connect).
    ///   - onPush: receives every message that answers no command (a subscription's messages).
    /// - Throws: ``RedisError`` (`connectionFailed`, `timeout` or `handshakeFailed`); never a password in its message.
    public static func connect(
        to configuration: RedisConfiguration, on eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any(),
        scripts: [RedisScript] = [], requirePrimary: Bool = false, onPush: (@Sendable (RESPValue) -> Void)? = nil
    ) async throws -> RedisConnection {
        let timeout = TimeAmount(configuration.commandTimeout)
        let sslContext: NIOSSLContext?
        if let tls = configuration.tls {
            var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
            if let path = tls.caCertificatesPath {
                do {
                    tlsConfiguration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(path))
                } catch {
                    throw RedisError(.connectionFailed, "cannot read the CA certificates at \(path)")
                }
            }
            if !tls.verifyCertificate { tlsConfiguration.certificateVerification = .none }
            do {
                sslContext = try NIOSSLContext(configuration: tlsConfiguration)
            } catch {
                throw RedisError(.connectionFailed, "TLS set-up failed: \(error)")
            }
        } else {
            sslContext = nil
        }
        let serverName: String? = {
            guard case .tcp(let host, _) = configuration.endpoint else { return nil }
            let name = configuration.tls?.serverName ?? host
            return IPAddressCheck.isLiteral(name) ? nil : name
        }()
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: sslContext, serverHostname: serverName))
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPDecoder(), maximumBufferSize: RESPDecoder.maximumReplyBytes))
                    try channel.pipeline.syncOperations.addHandler(RedisCommandHandler(commandTimeout: timeout, onPush: onPush))
                }
            }
        let channel: any Channel
        do {
            switch configuration.endpoint {
            case .tcp(let host, let port): channel = try await bootstrap.connect(host: host, port: port).get()
            case .unixSocket(let path): channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            }
        } catch {
            throw RedisError(.connectionFailed, "cannot connect to \(configuration): \(Self.describe(error))")
        }
        let connection = RedisConnection(channel: channel)
        do {
            try await connection.handshake(configuration, scripts: scripts, requirePrimary: requirePrimary)
        } catch {
            // Never leave a half-authenticated socket open.
            try? await channel.close()
            throw error
        }
        return connection
    }

    private func handshake(_ configuration: RedisConfiguration, scripts: [RedisScript], requirePrimary: Bool) async throws {
        var commands: [[String]] = []
        if let password = configuration.password {
            commands.append(configuration.username.map { ["AUTH", $0, password] } ?? ["AUTH", password])
        }
        if configuration.database != 0 { commands.append(["SELECT", String(configuration.database)]) }
        if let name = configuration.clientName { commands.append(["CLIENT", "SETNAME", name]) }
        for script in scripts { commands.append(["SCRIPT", "LOAD", script.source]) }
        if requirePrimary { commands.append(["ROLE"]) }
        guard !commands.isEmpty else { return }
        let replies = try await pipeline(commands)
        for (command, reply) in zip(commands, replies) {
            switch reply {
            case .failure(let error as RedisError) where command == ["ROLE"] && error.prefix == "NOPERM":
                // `ROLE` is in the `@dangerous` ACL category: a user without it cannot check; a demoted server
                // still refuses our writes with `READONLY`, which sends the client back to the Sentinels.
                break
            case .failure(let error):
                let step = command[0] == "AUTH" ? "AUTH" : command.prefix(2).joined(separator: " ")
                guard let redisError = error as? RedisError, let reply = redisError.prefix else {
                    // No reply at all: the server hung up. A TLS-only port does that to a plain connection.
                    let hint = configuration.tls == nil ? "; a TLS-only server needs rediss://" : ""
                    throw RedisError(.connectionFailed, "\(configuration) closed the connection during \(step)\(hint)")
                }
                throw RedisError(.handshakeFailed, "\(step) was refused by \(configuration) (\(reply))")
            case .success(let value) where command == ["ROLE"]:
                let role = value.elements?.first?.string ?? "unknown"
                guard role == "master" else {
                    throw RedisError(.handshakeFailed, "\(configuration.endpoint.hostPort) is a \(role), not the primary")
                }
            case .success:
                break
            }
        }
    }

    /// Sends one command and waits for its reply.
    /// - Throws: ``RedisError``: `serverError` for an error reply, `timeout`, `connectionFailed`, `invalidCommand`
    ///   for an empty command; or `CancellationError` at once when the task is cancelled. The reply still arrives later and is dropped
    ///   (completing a finished promise does nothing), so the other commands on the connection are unaffected.
    public func send(_ arguments: [String]) async throws -> RESPValue {
        // Redis answers nothing at all to an empty array: the caller would wait for its timeout.
        guard !arguments.isEmpty else { throw Self.emptyCommand }
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        return try await withTaskCancellationHandler {
            // Encoded here, as a temporary: the outbox then holds the buffer's only reference and appends the next
            // commands of its batch to it in place (a caller still holding it would force a copy).
            write(RedisCommand(bytes: encode([arguments]), promises: [promise]))
            return try await promise.futureResult.get()
        } onCancel: {
            promise.fail(CancellationError())
        }
    }

    /// Sends several commands in one write and returns each one's result, so an error in one does not hide
    /// the others.
    public func pipeline(_ commands: [[String]]) async throws -> [Result<RESPValue, any Error>] {
        guard !commands.contains(where: \.isEmpty) else { throw Self.emptyCommand }
        // One buffer and one write for the whole pipeline: one event-loop hop, one syscall.
        let promises = commands.map { _ in channel.eventLoop.makePromise(of: RESPValue.self) }
        write(RedisCommand(bytes: encode(commands), promises: promises))
        // One await for the whole pipeline: awaiting each future would cost a hop to the event loop and back apiece.
        return try await EventLoopFuture.whenAllComplete(promises.map(\.futureResult), on: channel.eventLoop).get()
    }

    private static let emptyCommand = RedisError(.invalidCommand, "a command needs at least its name")

    /// The commands, one after another, in a buffer allocated at their encoded size.
    private func encode(_ commands: [[String]]) -> ByteBuffer {
        // Each command's size is computed once: for the buffer's capacity, then for the encoder's reserved space.
        let sizes = commands.map(RESPEncoder.encodedSize(of:))
        var buffer = channel.allocator.buffer(capacity: sizes.reduce(0, +))
        for (arguments, size) in zip(commands, sizes) { RESPEncoder.encode(arguments, size: size, into: &buffer) }
        return buffer
    }

    /// Queues commands in the outbox; the first command of a batch asks the event loop to send the batch. If the
    /// write itself fails (the channel is already closed, so no handler will ever see them), their promises fail
    /// instead of waiting forever.
    private func write(_ command: RedisCommand) {
        guard outbox.add(command) else { return }
        let (channel, outbox) = (self.channel, self.outbox)
        channel.eventLoop.execute {
            guard let batch = outbox.take() else { return }
            let written = channel.eventLoop.makePromise(of: Void.self)
            let promises = batch.promises
            written.futureResult.whenFailure { _ in
                for promise in promises { promise.fail(RedisError(.connectionFailed, "the connection is closed")) }
            }
            channel.writeAndFlush(batch, promise: written)
        }
    }

    /// Returns when the connection closes, or at once when the task is cancelled (the connection is then closed).
    public func closed() async {
        let channel = self.channel
        await withTaskCancellationHandler {
            try? await channel.closeFuture.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    /// Closes the connection.
    public func close() async {
        try? await channel.close()
    }

    private static func describe(_ error: any Error) -> String {
        if error is ChannelError { return "\(error)" }
        if let io = error as? IOError { return io.description }
        return String(describing: type(of: error))
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// SNI must not carry an IP literal.
enum IPAddressCheck {
    static func isLiteral(_ host: String) -> Bool {
        host.contains(":") || host.split(separator: ".").allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }
}
