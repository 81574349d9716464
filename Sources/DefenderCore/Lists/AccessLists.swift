import Synchronization

/// The allow and deny lists in force: the settings' lists, plus a deny-list file that can be swapped while
/// the server runs (``replaceFileDenylist(_:)``).
///
/// Deny wins: a request whose IP or username is deny-listed is refused before any password check, even when
/// it is also allow-listed. An allow-listed request is never counted or locked (its attempts are still
/// written to the audit log).
public final class AccessLists: Sendable {
    /// What the lists say about one request.
    public enum Decision: Sendable, Hashable {
        /// Not listed: the usual rules apply.
        case unlisted
        /// Never counted or locked.
        case allowed
        /// Refused before the password check.
        case denied
    }

    struct Lists: Sendable {
        var allowIPs: IPNetworkSet
        var denyIPs: IPNetworkSet
        var fileDenyIPs = IPNetworkSet()
        var storedDenyIPs = IPNetworkSet()
        var allowUsernames: Set<String>
        var denyUsernames: Set<String>

        var isEmpty: Bool {
            allowIPs.isEmpty && denyIPs.isEmpty && fileDenyIPs.isEmpty && storedDenyIPs.isEmpty && allowUsernames.isEmpty && denyUsernames.isEmpty
        }
    }

    private let lists: Mutex<Lists>
    private let empty = Atomic<Bool>(true)

    /// Lists from the settings (``DefenderConfiguration/ipAllowlist`` and the others); the file is loaded apart.
    public init(configuration: DefenderConfiguration) {
        let lists = Lists(
            allowIPs: IPNetworkSet(configuration.ipAllowlist), denyIPs: IPNetworkSet(configuration.ipDenylist),
            allowUsernames: Set(configuration.usernameAllowlist.compactMap { DefenderKey.username($0)?.value }),
            denyUsernames: Set(configuration.usernameDenylist.compactMap { DefenderKey.username($0)?.value }))
        self.lists = Mutex(lists)
        empty.store(lists.isEmpty, ordering: .relaxed)
    }

    /// What the lists say about a client (its own address, not its IPv6 group) and a username key.
    public func decision(ip: IPAddress, username: DefenderKey?) -> Decision {
        // Most deployments have no lists: one atomic load, no lock.
        if empty.load(ordering: .relaxed) { return .unlisted }
        return lists.withLock { lists in
            if lists.denyIPs.contains(ip) || lists.fileDenyIPs.contains(ip) || lists.storedDenyIPs.contains(ip) { return .denied }
            if let username, lists.denyUsernames.contains(username.value) { return .denied }
            if lists.allowIPs.contains(ip) { return .allowed }
            if let username, lists.allowUsernames.contains(username.value) { return .allowed }
            return .unlisted
        }
    }

    /// Replaces the ranges read from ``DefenderConfiguration/ipDenylistFile``.
    public func replaceFileDenylist(_ set: IPNetworkSet) {
        replace(\.fileDenyIPs, with: set)
    }

    /// Replaces the ranges an operator stored (DefenderFluent's `defender_denylist` table, managed from the
    /// admin API and the commands).
    public func replaceStoredDenylist(_ set: IPNetworkSet) {
        replace(\.storedDenyIPs, with: set)
    }

    private func replace(_ list: WritableKeyPath<Lists, IPNetworkSet>, with set: IPNetworkSet) {
        let isEmpty = lists.withLock { lists in
            lists[keyPath: list] = set
            return lists.isEmpty
        }
        empty.store(isEmpty, ordering: .relaxed)
    }

    /// How many ranges the deny-list file contributed.
    public var fileDenylistCount: Int { lists.withLock { $0.fileDenyIPs.count } }
}
