import DefenderVapor
import Fluent
import FluentKit
import Foundation
import NIOConcurrencyHelpers
import Vapor

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

/// The stored deny list: entries added from the admin API, the admin page or `defender deny`, loaded at boot,
/// applied at once in the process that changes them, and re-read by every instance each
/// `DefenderConfiguration/ipDenylistReloadInterval`. Set up with `DefenderSupport/useFluentDenylist(database:)`.
public struct FluentDenylist: Sendable {
    let application: Application
    let databaseID: DatabaseID?

    var database: any Database { application.db(databaseID) }

    /// Every entry, oldest first.
    public func entries() async throws -> [DenylistEntry] {
        try await DenylistEntry.query(on: database).sort(\.$id).all()
    }

    /// Adds a range (an address or CIDR) and applies the list.
    /// - Returns: the range in canonical form, and whether it was new.
    /// - Throws: `DefenderError` with `DefenderError/Code/invalidKey` for anything that is not a range.
    @discardableResult
    public func add(_ text: String, note: String = "") async throws -> (network: IPNetwork, added: Bool) {
        guard let network = IPNetwork(text) else {
            throw DefenderError(.invalidKey, "'\(text.prefix(64))' is not an IP address or CIDR range (such as 203.0.113.0/24 or 2001:db8::/32)")
        }
        let query = DenylistEntry.query(on: database).filter(\.$network == network.description)
        var added = false
        if try await query.count() == 0 {
            do {
                try await DenylistEntry(network: network, note: note).create(on: database)
                added = true
            } catch {
                // Another request added the same range in between (the unique index refused this one).
                guard try await query.count() > 0 else { throw error }
            }
        }
        try await reload()
        return (network, added)
    }

    /// Removes a range, given as it was added or in any spelling of the same range, and applies the list.
    /// - Returns: whether it was there.
    @discardableResult
    public func remove(_ text: String) async throws -> Bool {
        guard let network = IPNetwork(text) else {
            throw DefenderError(.invalidKey, "'\(text.prefix(64))' is not an IP address or CIDR range")
        }
        let query = DenylistEntry.query(on: database).filter(\.$network == network.description)
        let existed = try await query.count() > 0
        try await query.delete()
        try await reload()
        return existed
    }

    /// Reads the table and hands the ranges to the engine.
    public func reload() async throws {
        let rows = try await DenylistEntry.query(on: database).all(\.$network)
        application.defender.setStoredDenylist(IPNetworkSet(rows.compactMap { IPNetwork($0) }))
    }
}

extension DefenderSupport {
    /// Keeps a deny list in `defender_denylist` (the app's default database, or `id`), managed from the admin
    /// API and page and from `defender deny | undeny | denylist`: adds the migration, loads the list at boot and
    /// re-reads it every `DefenderConfiguration/ipDenylistReloadInterval` so that every instance sees changes.
    @discardableResult
    public func useFluentDenylist(database id: DatabaseID? = nil) -> FluentDenylist {
        let app = application
        app.migrations.add(CreateDenylistEntry())
        let list = FluentDenylist(application: app, databaseID: id)
        app.storage[FluentDenylistKey.self] = list
        app.lifecycle.use(DenylistLifecycle(list: list))
        run(DefenderPoller(
            name: "stored deny list reload", interval: configuration.ipDenylistReloadInterval, startImmediately: true,
            logger: app.logger) { try await list.reload() })
        return list
    }

    /// The stored deny list set up by `useFluentDenylist(database:)`, if any.
    public var fluentDenylist: FluentDenylist? { application.storage[FluentDenylistKey.self] }
}

struct FluentDenylistKey: StorageKey { typealias Value = FluentDenylist }

/// Loads the list at boot, awaited when the app boots asynchronously (as a server does), so that it is in force
/// before the first request; the `DefenderPoller` that `DefenderSupport/useFluentDenylist(database:)` runs
/// re-reads it from then on.
struct DenylistLifecycle: LifecycleHandler {
    let list: FluentDenylist

    func didBootAsync(_ application: Application) async throws {
        do {
            try await list.reload()
        } catch {
            // Not fatal: `migrate` itself boots the app before the table exists. The poller keeps trying.
            application.logger.error("stored deny list not loaded (run the migrations?); retrying", metadata: ["error": "\(error)"])
        }
    }
}
