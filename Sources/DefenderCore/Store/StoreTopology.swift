/// Where a shared store keeps its data, for health reports: the Redis store says standalone, Sentinel (and which
/// server is the primary now) or Cluster (and how many primaries serve slots).
package struct StoreTopology: Sendable, Equatable {
    /// `standalone`, `sentinel`, `cluster`, or `external` (an app's own Redis client).
    package var kind: String
    /// With Sentinel: the primary in use (`host:port`), `nil` while none is known.
    package var primary: String?
    /// With a Cluster: the primaries that serve slots in the client's map.
    package var primaries: Int?

    package init(kind: String, primary: String? = nil, primaries: Int? = nil) {
        self.kind = kind
        self.primary = primary
        self.primaries = primaries
    }
}

/// A store that can say where its data lives (``StoreTopology``).
package protocol TopologyReporting: Sendable {
    var topology: StoreTopology { get }
}
