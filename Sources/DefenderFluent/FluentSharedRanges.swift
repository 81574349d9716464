import DefenderCore
import FluentKit
import Foundation

/// One stored shared range (`defender_shared_ranges`): addresses many users share, whose IP dimension counts
/// (address, username) pairs, beside `DEFENDER_SHARED_IP_RANGES` and its file.
public final class SharedRangeEntry: StoredRangeRow, @unchecked Sendable {
    /// The table, `defender_shared_ranges`.
    public static let schema = "defender_shared_ranges"
    /// The migration's name, `Defender.CreateSharedRangeEntry`.
    public static let migrationName = "Defender.CreateSharedRangeEntry"
    /// The range column.
    public static var networkKey: KeyPath<SharedRangeEntry, FieldProperty<SharedRangeEntry, String>> { \.$network }

    /// The row id.
    @ID(custom: "id", generatedBy: .database) public var id: Int?
    /// The range in canonical CIDR form.
    @Field(key: "network") public var network: String
    /// Why it was added (`the office proxy`), for the next operator.
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

/// Creates `defender_shared_ranges` (one row per range, unique).
public typealias CreateSharedRangeEntry = CreateRangeTable<SharedRangeEntry>

/// The stored shared ranges in a Fluent database (`defender_shared_ranges`): entries added from the admin API, the
/// admin page or `defender share` (`app.defender.useStoredSharedRanges(_:)` in Vapor).
public typealias FluentSharedRanges = FluentRangeList<SharedRangeEntry>
