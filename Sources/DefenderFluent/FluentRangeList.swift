import DefenderCore
import FluentKit
import Foundation

/// The table a stored list of address ranges lives in: its name and its migration's.
public protocol RangeTable: Sendable {
    /// The table's name.
    static var schema: String { get }
    /// The migration's name (kept per table: existing databases know it).
    static var migrationName: String { get }
}

/// One range of a table of address ranges that operators manage (the stored deny list, the stored shared ranges):
/// one row per range in canonical CIDR form, unique, with a note and when it was added.
public final class RangeRow<Table: RangeTable>: Model, @unchecked Sendable {
    /// The table's name.
    public static var schema: String { Table.schema }

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

    /// An entry for a network, with an operator's note (cut to 255 bytes (UTF-8, on a scalar)).
    public init(network: IPNetwork, note: String) {
        self.network = network.description
        self.note = note.truncated(toUTF8Bytes: 255)
        self.createdAt = Date()
    }
}

/// Creates the table of a ``RangeTable`` (one row per range, unique).
public struct CreateRangeTable<Table: RangeTable>: AsyncMigration {
    /// The migration.
    public init() {}

    public var name: String { Table.migrationName }

    /// Creates the table.
    public func prepare(on database: any Database) async throws {
        try await database.schema(Table.schema)
            .field("id", .int64, .identifier(auto: true))
            .field("network", .string, .required)
            .field("note", .string, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "network")
            .create()
    }

    /// Drops the table.
    public func revert(on database: any Database) async throws {
        try await database.schema(Table.schema).delete()
    }
}

/// A stored range list in a Fluent database: entries added from the admin API, the admin page or the commands,
/// kept across restarts whatever the attempt store. It only stores; the integration applies the ranges at once in
/// the process that changes them and re-reads them in every instance each
/// `DefenderConfiguration/ipDenylistReloadInterval`.
public struct FluentRangeList<Table: RangeTable>: StoredRangeList {
    typealias Row = RangeRow<Table>

    let database: @Sendable () -> any Database

    /// The list in `database`, e.g. `FluentDenylist(database: { app.db })`; add the table's migration
    /// (`CreateDenylistEntry()`, `CreateSharedRangeEntry()`) to the app's migrations.
    public init(database: @escaping @Sendable () -> any Database) {
        self.database = database
    }

    /// Every entry, oldest first.
    public func entries() async throws -> [StoredRangeEntry] {
        try await Row.query(on: database()).sort(\.$id).all().compactMap { row in
            IPNetwork(row.network).map { StoredRangeEntry(network: $0, note: row.note, createdAt: row.createdAt) }
        }
    }

    /// Adds a range; another instance adding the same range at the same moment is not an error.
    /// - Returns: whether it was new.
    public func add(_ network: IPNetwork, note: String) async throws -> Bool {
        let database = database()
        let query = Row.query(on: database).filter(\.$network == network.description)
        guard try await query.count() == 0 else { return false }
        do {
            try await Row(network: network, note: note).create(on: database)
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
        let query = Row.query(on: database()).filter(\.$network == network.description)
        let existed = try await query.count() > 0
        try await query.delete()
        return existed
    }
}
