import DefenderCore
import FluentKit
import Foundation

/// One range of the stored deny list (`defender_denylist`): refused before any password check, kept across
/// restarts whatever the attempt store.
public final class DenylistEntry: Model, @unchecked Sendable {
    /// The table, `defender_denylist`.
    public static let schema = "defender_denylist"

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
public struct CreateDenylistEntry: AsyncMigration {
    /// The migration.
    public init() {}

    public var name: String { "Defender.CreateDenylistEntry" }

    /// Creates the table.
    public func prepare(on database: any Database) async throws {
        try await database.schema(DenylistEntry.schema)
            .field("id", .int64, .identifier(auto: true))
            .field("network", .string, .required)
            .field("note", .string, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "network")
            .create()
    }

    /// Drops the table.
    public func revert(on database: any Database) async throws {
        try await database.schema(DenylistEntry.schema).delete()
    }
}

/// The stored deny list in a Fluent database (`defender_denylist`): entries added from the admin API, the admin
/// page or `defender deny`, kept across restarts whatever the attempt store. It only stores; the integration
/// applies the ranges at once in the process that changes them and re-reads them in every instance each
/// `DefenderConfiguration/ipDenylistReloadInterval` (`app.defender.useStoredDenylist(_:)` in Vapor).
public struct FluentDenylist: StoredDenylist {
    let database: @Sendable () -> any Database

    /// The list in `database`, e.g. `FluentDenylist(database: { app.db })`; add `CreateDenylistEntry()` to the
    /// app's migrations.
    public init(database: @escaping @Sendable () -> any Database) {
        self.database = database
    }

    /// Every entry, oldest first.
    public func entries() async throws -> [StoredDenylistEntry] {
        try await DenylistEntry.query(on: database()).sort(\.$id).all().compactMap { row in
            IPNetwork(row.network).map { StoredDenylistEntry(network: $0, note: row.note, createdAt: row.createdAt) }
        }
    }

    /// Adds a range; another instance adding the same range at the same moment is not an error.
    /// - Returns: whether it was new.
    public func add(_ network: IPNetwork, note: String) async throws -> Bool {
        let database = database()
        let query = DenylistEntry.query(on: database).filter(\.$network == network.description)
        guard try await query.count() == 0 else { return false }
        do {
            try await DenylistEntry(network: network, note: note).create(on: database)
            return true
        } catch {
            // Another request added the same range in between (the unique index refused this one).
            guard try await query.count() > 0 else { throw error }
            return false
        }
    }

    /// Removes a range.
    /// - Returns: whether it was there.
    public func remove(_ network: IPNetwork) async throws -> Bool {
        let query = DenylistEntry.query(on: database()).filter(\.$network == network.description)
        let existed = try await query.count() > 0
        try await query.delete()
        return existed
    }
}
