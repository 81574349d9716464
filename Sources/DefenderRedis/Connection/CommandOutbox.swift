import NIOCore
import Synchronization

/// Commands that callers off the event loop have encoded, waiting for the loop to write them: one batch, one
/// `write` system call, one wake-up of the loop.
///
/// Sending each command on its own (`writeAndFlush` from another thread) costs a wake-up of the event loop
/// (an `eventfd` write) and a socket write apiece; under load those were a third of the client's CPU per script
/// (a perf profile of `Benchmarks/run-redis-cpu`). Here, the caller that finds the outbox empty asks the loop to
/// send it; callers that come before the loop does only append. Commands keep their order, and a pipeline's
/// commands (`ASKING` and its script) stay together, because bytes and promises are appended under one lock.
final class CommandOutbox: Sendable {
    private let pending = Mutex<RedisCommand?>(nil)

    /// Appends `command`. Returns `true` when the outbox was empty: the caller then asks the loop to `take()` it.
    func add(_ command: RedisCommand) -> Bool {
        pending.withLock { pending in
            guard var batch = pending.take() else {
                pending = command
                return true
            }
            var bytes = command.bytes
            batch.bytes.writeBuffer(&bytes)
            batch.promises.append(contentsOf: command.promises)
            pending = batch
            return false
        }
    }

    /// Everything queued, in order, or `nil` when another task took it already.
    func take() -> RedisCommand? {
        pending.withLock { $0.take() }
    }
}
