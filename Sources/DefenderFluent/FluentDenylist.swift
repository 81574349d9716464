import DefenderCore
import FluentKit
import Foundation

/// One range of the stored deny list (`defender_denylist`): refused before any password check, kept across
/// restarts whatever the attempt store.
public final class DenylistEntry: StoredRangeRow, @unchecked Sendable {
    /// The table, `defender_denylist`.
    public static let schema = "defender_denylist"
    /// The migration's name, `Defender.CreateDenylistEntry`.
    public static let migrationName = "Defender.CreateDenylistEntry"
    /// The range column.
    public static var networkKey: KeyPath<DenylistEntry, FieldProperty<DenylistEntry, String>> { \.$network }

    /// The row id.
    @ID(custom: "id", generatedBy: .database) public var id: Int?
    /// The range in canonical CIDR form (`203.0.113.0/24`, `2001:db8::/32`; a single address is `/32` or `/128`).
    @Field(key: "network") public var network: String
    /// Why it was added, for the next operator.
    @Field(key: "note") public var note: String
    /// When it was added.
    @Field(key: "created_at") public var createdAt: Date

    /// An empty row, for Fluent.
    public init() {}

    /// An entry for a network, with an operator's note.
    public init(network: IPNetwork, note: String) {
        self.network = network.description
        self.note = String(note.prefix(255))
        self.createdAt = Date()
    }
}

/// Creates `defender_denylist` (one row per range, unique).
public typealias CreateDenylistEntry = CreateRangeTable<DenylistEntry>

/// The stored deny list in a Fluent database (`defender_denylist`): entries added from the admin API, the admin
/// page or `defender deny` (`app.defender.useStoredDenylist(_:)` in Vapor).
public typealias FluentDenylist = FluentRangeList<DenylistEntry>
