import DefenderCore
import DefenderTesting
import Testing

/// Log lines a client can cause once per request are capped, so that one client cannot flood the log.
@Suite struct LogBudgetTests {
    @Test func aWindowWritesAtMostItsLinesAndTheNextLineSaysHowManyWereDropped() {
        let start = ContinuousClock.now
        let budget = LogBudget(linesPerWindow: 3, window: .seconds(10), now: start)
        let first = (0..<10).map { budget.spend(now: start + .milliseconds($0)) }
        #expect(first.map(\.write) == [true, true, true] + Array(repeating: false, count: 7))
        #expect(first.allSatisfy { $0.dropped == 0 })
        let next = budget.spend(now: start + .seconds(10))
        #expect(next.write && next.dropped == 7)
        let after = budget.spend(now: start + .seconds(10) + .milliseconds(1))
        #expect(after.write && after.dropped == 0, "said once")
        // A quiet spell: the count of the dropped waits for the next line, however late.
        for offset in 0..<5 { _ = budget.spend(now: start + .seconds(11) + .milliseconds(offset)) }
        let late = budget.spend(now: start + .seconds(3600))
        #expect(late.write && late.dropped == 4)
    }

    /// A deny-listed client knocking 1,000 times, a dry run's would-be lockouts and logins that time out in
    /// admission write at most the budget's lines each (every refusal still happens).
    @Test func floodsOfPerRequestLinesAreCapped() async throws {
        var configuration = DefenderConfiguration()
        configuration.ipDenylist = [IPNetwork("198.51.100.0/24")!]
        let logs = LogCapture()
        let engine = Defender(configuration: configuration, logger: logs.logger)
        // Ten lines per ten-second window: on a loaded machine the loop may span more than one window.
        func allowed(since start: ContinuousClock.Instant) -> Int { 10 * (Int((ContinuousClock.now - start) / .seconds(10)) + 1) }
        var start = ContinuousClock.now
        for index in 0..<1000 {
            #expect(try await engine.login(ip: "198.51.100.\(index % 250)", username: "u\(index)", correctPassword: true) == .refused)
        }
        let denied = logs.messages.filter { $0.contains("deny-listed") }.count
        #expect(denied >= 10 && denied <= allowed(since: start), "\(denied)")

        var dryRun = DefenderConfiguration()
        dryRun.dryRun = true
        let dryLogs = LogCapture()
        let dryEngine = Defender(configuration: dryRun, logger: dryLogs.logger)
        start = ContinuousClock.now
        for index in 0..<200 {
            #expect(try await dryEngine.login(ip: "10.77.0.\(index % 250)", username: "target", correctPassword: false) == .failure)
        }
        let wouldLock = dryLogs.messages.filter { $0.contains("dry run: this login would be locked out") }.count
        #expect(wouldLock >= 10 && wouldLock <= allowed(since: start), "\(wouldLock)")
    }
}
