@testable import DefenderHTTP
import DefenderTesting
import Synchronization
import Testing

/// Overlapping reloads of a stored list: an older read is never put in force over a newer one, so an operator's
/// change, once its own reload has returned, stays in force.
@Suite struct OrderedReloadTests {
    /// A table whose version grows with every change, and the version in force in this process.
    final class Table: Sendable {
        let version = Mutex(0)
        /// Every application, in order: the version put in force.
        let applied = Mutex<[Int]>([])
        var inForce: Int { applied.withLock { $0.last ?? 0 } }
    }

    /// One reload whose read takes a snapshot and is then held up for `delay` (a slow database answer).
    static func reload(_ order: OrderedReload, _ table: Table, delay: Duration) async throws -> Bool {
        try await order.run(
            read: {
                let snapshot = table.version.withLock { $0 }
                try await Task.sleep(for: delay)
                return snapshot
            },
            apply: { version in table.applied.withLock { $0.append(version) } })
    }

    @Test func aReadThatBeganEarlierIsNotPutInForceOverALaterOne() async throws {
        let order = OrderedReload()
        let table = Table()
        // The periodic reload reads the table before the operator's change and is slow to answer.
        async let stale = Self.reload(order, table, delay: .milliseconds(300))
        try await Task.sleep(for: .milliseconds(50))
        table.version.withLock { $0 += 1 }
        #expect(try await Self.reload(order, table, delay: .zero))
        #expect(table.inForce == 1)
        #expect(try await stale == false)
        #expect(table.inForce == 1 && table.applied.withLock { $0 } == [1])
    }

    /// Many writers and periodic readers at once, with random delays (seeded): after each writer's reload has
    /// returned, every version put in force holds that writer's change.
    @Test func aChangeStaysInForceOnceItsReloadReturns() async throws {
        var random = SplitMix64(seed: 0x5EED_0E1D)
        for round in 0..<20 {
            let order = OrderedReload()
            let table = Table()
            let plans: [(writes: Bool, delay: Duration)] = (0..<24).map { _ in
                (Bool.random(using: &random), .microseconds(Int.random(in: 0...3_000, using: &random)))
            }
            // For each writer: its version, and how many versions had been put in force when its reload returned.
            let done = try await withThrowingTaskGroup(of: (version: Int, seen: Int)?.self) { group in
                for plan in plans {
                    group.addTask {
                        guard plan.writes else {
                            _ = try await Self.reload(order, table, delay: plan.delay)
                            return nil
                        }
                        let version = table.version.withLock { $0 += 1; return $0 }
                        _ = try await Self.reload(order, table, delay: plan.delay)
                        return (version, table.applied.withLock { $0.count })
                    }
                }
                return try await group.reduce(into: [(version: Int, seen: Int)]()) { if let done = $1 { $0.append(done) } }
            }
            let applied = table.applied.withLock { $0 }
            for writer in done {
                let after = applied[(writer.seen - 1)...]
                #expect(after.allSatisfy { $0 >= writer.version }, "round \(round): version \(writer.version) undone by \(after)")
            }
            #expect(table.inForce == table.version.withLock { $0 })
        }
    }
}
