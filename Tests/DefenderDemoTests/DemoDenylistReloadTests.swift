import DefenderCore
import DefenderHTTP
import Synchronization
import Testing

/// A reload of the stored deny list that read the table before an operator's `deny` (or `undeny`) and answered
/// after it must not undo the change: the list in force keeps it (the demo's own database table).
@Suite struct DemoDenylistReloadTests {
    /// The demo's stored list, whose next read takes its snapshot and then waits until released: a periodic
    /// reload that began before an operator's change and finishes after it.
    final class HeldRangeList: StoredRangeList {
        let inner: any StoredRangeList
        private let armed = Mutex(false)
        private let snapshots: AsyncStream<Void>
        private let snapshotTaken: AsyncStream<Void>.Continuation
        private let releases: AsyncStream<Void>
        private let releaseRead: AsyncStream<Void>.Continuation

        init(_ inner: any StoredRangeList) {
            self.inner = inner
            (snapshots, snapshotTaken) = AsyncStream.makeStream()
            (releases, releaseRead) = AsyncStream.makeStream()
        }

        /// Makes the next read wait, after its snapshot, for ``release()``.
        func holdNextRead() { armed.withLock { $0 = true } }

        /// Returns once the held read has its snapshot.
        func awaitSnapshot() async { for await _ in snapshots { return } }

        func release() { releaseRead.yield() }

        func entries() async throws -> [StoredRangeEntry] {
            let holds = armed.withLock { armed in
                defer { armed = false }
                return armed
            }
            let snapshot = try await inner.entries()
            if holds {
                snapshotTaken.yield()
                for await _ in releases { break }
            }
            return snapshot
        }

        func add(_ network: IPNetwork, note: String) async throws -> Bool { try await inner.add(network, note: note) }
        func remove(_ network: IPNetwork) async throws -> Bool { try await inner.remove(network) }
    }

    @Test(arguments: DemoFramework.allCases) func aReloadThatReadBeforeAChangeDoesNotUndoIt(_ framework: DemoFramework) async throws {
        try await withDemo([:], on: framework) { (demo) async throws in
            let list = HeldRangeList(try #require(try demo.runtime().storedDenylist))
            let runtime = try DefenderRuntime(configuration: DefenderConfiguration(), storedDenylist: list)
            let operations = runtime.operations()
            let address = try #require(IPAddress("192.0.2.7"))
            func decision() -> AccessLists.Decision { runtime.engine.accessLists.decision(ip: address, username: nil) }

            for change in ["deny", "undeny"] {
                list.holdNextRead()
                let stale = Task { await runtime.loadStoredDenylist() }
                await list.awaitSnapshot()
                if change == "deny" {
                    #expect(try await operations.add("192.0.2.0/24", note: "reload race", to: .denylist).added)
                } else {
                    #expect(try await operations.remove("192.0.2.0/24", from: .denylist))
                }
                let expected: AccessLists.Decision = change == "deny" ? .denied : .unlisted
                #expect(decision() == expected, "\(change) was not in force when it returned")
                list.release()
                await stale.value
                #expect(decision() == expected, "the reload that read before `\(change)` undid it")
            }
        }
    }
}
