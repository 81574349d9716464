import DefenderCore

/// What an operator is told about a stored list's change, the same on the command line and on the admin page.
extension DefenderOperations.RangeList {
    /// `Deny-listed 192.0.2.0/24.` or `192.0.2.0/24 was already deny-listed.`
    package func added(_ network: IPNetwork, wasNew: Bool) -> String {
        switch self {
        case .denylist: wasNew ? "Deny-listed \(network)." : "\(network) was already deny-listed."
        case .sharedRanges: wasNew ? "\(network) is shared." : "\(network) was already shared."
        }
    }

    /// `Removed 192.0.2.0/24 from the deny list.` or `192.0.2.0/24 was not on the deny list.`, with the range as
    /// the operator wrote it.
    package func removed(_ text: String, wasThere: Bool) -> String {
        switch self {
        case .denylist: wasThere ? "Removed \(text) from the deny list." : "\(text) was not on the deny list."
        case .sharedRanges: wasThere ? "Removed \(text) from the shared ranges." : "\(text) was not a stored shared range."
        }
    }

    /// The first line of a listing: `Deny-listed ranges: 2`.
    package func heading(count: Int) -> String {
        switch self {
        case .denylist: "Deny-listed ranges: \(count)"
        case .sharedRanges: "Stored shared ranges: \(count)"
        }
    }
}
