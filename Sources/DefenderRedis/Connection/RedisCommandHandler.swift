import NIOCore

/// Commands on their way: their encoded bytes (one or a whole pipeline) and where each reply goes, in order.
struct RedisCommand: Sendable {
    var bytes: ByteBuffer
    var promises: [EventLoopPromise<RESPValue>]
}

/// Matches replies to commands in order (Redis answers a pipeline in order).
///
/// An error reply fails only its own command. A protocol error, an EOF or a command timeout fails every
/// pending command and closes the channel: after those, positions can no longer be trusted.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RedisCommand
    typealias OutboundOut = ByteBuffer

    private var pending = CircularBuffer<(promise: EventLoopPromise<RESPValue>, deadline: NIODeadline)>()
    /// The timer that checks the oldest command's deadline. It is armed while commands are out and left to fire
    /// when they are answered (it then finds none, or a newer deadline, and re-arms for it): scheduling and
    /// cancelling a timer per command cost more than the occasional idle firing.
    private var timeoutTask: Scheduled<Void>?
    private let commandTimeout: TimeAmount
    private var failure: RedisError?
    /// Where messages that answer no command go: a subscriber connection's published messages.
    private let onPush: (@Sendable (RESPValue) -> Void)?

    init(commandTimeout: TimeAmount, onPush: (@Sendable (RESPValue) -> Void)? = nil) {
        self.commandTimeout = commandTimeout
        self.onPush = onPush
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let command = unwrapOutboundIn(data)
        if let failure {
            for commandPromise in command.promises { commandPromise.fail(failure) }
            promise?.fail(failure)
            return
        }
        let deadline = NIODeadline.now() + commandTimeout
        for commandPromise in command.promises { pending.append((commandPromise, deadline)) }
        if timeoutTask == nil { armTimeout(at: deadline, context: context) }
        context.write(wrapOutboundOut(command.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        if let onPush, value.isPublishedMessage {
            // On a subscriber connection a published message can arrive while a `PING` waits: it is not its reply.
            onPush(value)
            return
        }
        guard let head = pending.popFirst() else {
            // A message of a subscription (after its `SUBSCRIBE` was answered), or a reply nobody waits for.
            onPush?(value)
            return
        }
        switch value {
        case .error(let message): head.promise.fail(RedisError(.serverError, message))
        default: head.promise.succeed(value)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let redisError = (error as? RedisError) ?? RedisError(.connectionLost, "connection error: \(error)")
        failAll(redisError)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The commands still waiting were written: the server may have run them.
        failAll(RedisError(.connectionLost, "the connection was closed with commands out"))
        context.fireChannelInactive()
    }

    private func failAll(_ error: RedisError) {
        if failure == nil { failure = error }
        timeoutTask?.cancel()
        timeoutTask = nil
        while let head = pending.popFirst() { head.promise.fail(error) }
    }

    /// Arms the timer for `deadline`. When it fires, the oldest command still out decides: past its deadline, every
    /// command fails and the channel closes; otherwise the timer waits for that command's deadline; with none out
    /// it stops until the next write.
    private func armTimeout(at deadline: NIODeadline, context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timeoutTask = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.timeoutTask = nil
            guard let oldest = handler.pending.first else { return }
            guard oldest.deadline <= .now() else {
                handler.armTimeout(at: oldest.deadline, context: context)
                return
            }
            handler.failAll(RedisError(.timeout, "no reply within \(handler.commandTimeout.nanoseconds / 1_000_000) ms"))
            context.close(promise: nil)
        }
    }
}

extension RESPValue {
    /// `["message", channel, payload]`: what a subscription delivers (RESP2).
    var isPublishedMessage: Bool {
        guard let elements, elements.count == 3 else { return false }
        return elements[0].string == "message"
    }
}
