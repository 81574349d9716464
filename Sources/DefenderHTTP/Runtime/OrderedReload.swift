import DefenderCore
import Synchronization

/// Puts a stored list's reads in force in the order they began, never an older read over a newer one.
///
/// Reads overlap: the periodic reload, the load at boot and the reload after an operator's `deny` each read the
/// table and then replace the list in force. A read that began before an operator's change but finished after
/// the change's own reload would otherwise put the old list back — undoing the `deny` (or `undeny`) that had just
/// answered "done" until the next reload interval. Each read takes a ticket before it starts; its result is put
/// in force only if no read that began later was put in force first. A read that began later sees every change
/// committed before it began, so the list in force after a change's reload always holds that change.
package final class OrderedReload: Sendable {
    private struct Tickets {
        var issued: UInt64 = 0
        var applied: UInt64 = 0
    }

    private let tickets = Mutex(Tickets())

    package init() {}

    /// Reads with `read` and, unless a read that began later is already in force, puts the result in force with
    /// `apply` (called under this reload's lock, so two results are never applied out of order).
    /// - Returns: whether the result was put in force.
    /// - Throws: the read's error (nothing is applied then).
    @discardableResult
    package func run<Value>(read: () async throws -> Value, apply: (Value) -> Void) async throws -> Bool {
        let ticket = tickets.withLock { tickets in
            tickets.issued += 1
            return tickets.issued
        }
        let value = try await read()
        return tickets.withLock { tickets in
            guard ticket > tickets.applied else { return false }
            tickets.applied = ticket
            apply(value)
            return true
        }
    }
}

/// A stored list, how to put it in force, and the order of its reloads.
struct StoredListReload: Sendable {
    let list: any StoredRangeList
    let apply: @Sendable (IPNetworkSet) -> Void
    let order = OrderedReload()

    init(list: any StoredRangeList, apply: @escaping @Sendable (IPNetworkSet) -> Void) {
        self.list = list
        self.apply = apply
    }

    /// Reads the list and puts it in force, in the order reads began.
    func run() async throws {
        try await order.run(read: { try await list.networks() }, apply: apply)
    }
}
