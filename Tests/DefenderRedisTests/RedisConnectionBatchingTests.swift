import DefenderTesting
@_spi(Internals) import DefenderRedis
import Foundation
import Testing

/// Commands from many tasks share writes (`CommandOutbox`) and one lazily moved timer (`RedisCommandHandler`):
/// every reply must still reach its own command, pipelines must stay whole, and a command that gets no reply must
/// still time out, whatever was answered before it.
@Suite struct RedisConnectionBatchingTests {
    /// 64 tasks send 40 commands each on one connection, single commands and two-command pipelines mixed at
    /// random (seeded), each with a payload of its own; every reply must be its command's. A batch that reordered
    /// bytes against promises, or split a pipeline, hands some task another's payload.
    @Test func everyReplyReachesItsOwnCommandUnderAStorm() async throws {
        guard let url = await SharedRedis.url else { return }
        let connection = try await RedisConnection.connect(to: try RedisConfiguration(url: url))
        let key = "defender-test-batch-\(UUID().uuidString)"
        let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<64 {
                group.addTask {
                    var generator = SplitMix64(seed: UInt64(worker) + 0xB47C)
                    var wrong = 0
                    for step in 0..<40 {
                        let payload = "\(worker)-\(step)-" + String(repeating: "x", count: Int.random(in: 0...300, using: &generator))
                        if Bool.random(using: &generator) {
                            if try await connection.send(["ECHO", payload]).string != payload { wrong += 1 }
                        } else {
                            // A pipeline: its two replies must arrive together and in order.
                            let replies = try await connection.pipeline([["ECHO", payload], ["INCR", key]])
                            if try replies[0].get().string != payload { wrong += 1 }
                            if try replies[1].get().int == nil { wrong += 1 }
                        }
                    }
                    return wrong
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(mismatches == 0)
        let increments = try #require(try await connection.send(["GET", key]).string.flatMap { Int($0) })
        #expect(increments > 0 && increments < 64 * 40)
        _ = try await connection.send(["DEL", key])
        await connection.close()
    }

    /// The timer is armed at the first command's deadline and left running when that command is answered. A
    /// command sent while it still runs, and one sent after it fired with nothing out, must each still time out.
    @Test func aCommandTimesOutWhateverWasAnsweredBeforeIt() async throws {
        guard let url = await SharedRedis.url else { return }
        var configuration = try RedisConfiguration(url: url)
        configuration.commandTimeout = .milliseconds(300)
        for pauseBeforeTheSilentCommand in [Duration.zero, .milliseconds(100), .milliseconds(700)] {
            let connection = try await RedisConnection.connect(to: configuration)
            #expect(try await connection.send(["PING"]).string == "PONG")
            try await Task.sleep(for: pauseBeforeTheSilentCommand)
            let start = ContinuousClock.now
            let error = await #expect(throws: RedisError.self) {
                try await connection.send(["BLPOP", "defender-test-never-\(UUID().uuidString)", "20"])
            }
            #expect(error?.code == .timeout, "after a pause of \(pauseBeforeTheSilentCommand)")
            // Far below the BLPOP's 20 s (a loose bound: the machine may be busy).
            #expect(ContinuousClock.now - start < .seconds(10))
            // A timed-out connection is closed: later replies could no longer be matched to their commands.
            #expect(try await eventually { !connection.isActive })
            await connection.close()
        }
    }

    /// Redis answers nothing to an empty command, so one would only end at its timeout: it is refused before it
    /// is written, alone or in a pipeline, and the connection stays in use.
    @Test func anEmptyCommandIsRefusedAtOnce() async throws {
        guard let url = await SharedRedis.url else { return }
        let connection = try await RedisConnection.connect(to: try RedisConfiguration(url: url))
        let alone = await #expect(throws: RedisError.self) { try await connection.send([]) }
        #expect(alone?.code == .invalidCommand && alone?.isUnavailable == false, "a caller's mistake, not an outage")
        let piped = await #expect(throws: RedisError.self) { try await connection.pipeline([["PING"], []]) }
        #expect(piped?.code == .invalidCommand)
        #expect(try await connection.send(["PING"]).string == "PONG")
        #expect(connection.isActive)
        await connection.close()
    }
}
