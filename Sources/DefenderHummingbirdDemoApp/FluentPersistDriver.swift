import FluentKit
import Foundation
import Hummingbird

/// Hummingbird's key-value persistence (here: its sessions) in the demo's database, so that sessions survive a
/// restart and are shared by every instance, as the Vapor demo's Fluent sessions are.
struct FluentPersistDriver: PersistDriver {
    let database: @Sendable () -> any Database

    func create<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?) async throws {
        guard try await PersistedValue.find(key, on: database()) == nil else { throw PersistError.duplicate }
        try await PersistedValue(key: key, value: try Self.encode(value), expires: expires.map(Self.date)).create(on: database())
    }

    func set<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?) async throws {
        let db = database()
        if let existing = try await PersistedValue.find(key, on: db) {
            existing.value = try Self.encode(value)
            if let expires { existing.expires = Self.date(expires) }
            try await existing.update(on: db)
        } else {
            try await PersistedValue(key: key, value: try Self.encode(value), expires: expires.map(Self.date)).create(on: db)
        }
    }

    func get<Object: Codable & Sendable>(key: String, as type: Object.Type) async throws -> Object? {
        try await getWithTTL(key: key, as: type)?.object
    }

    func getWithTTL<Object: Codable & Sendable>(key: String, as type: Object.Type) async throws -> (object: Object, ttl: Duration?)? {
        let db = database()
        guard let stored = try await PersistedValue.find(key, on: db) else { return nil }
        var ttl: Duration?
        if let expires = stored.expires {
            let left = expires.timeIntervalSinceNow
            guard left > 0 else {
                try await stored.delete(on: db)
                return nil
            }
            ttl = .milliseconds(Int64(left * 1000))
        }
        do {
            return (try JSONDecoder().decode(Object.self, from: Data(stored.value.utf8)), ttl)
        } catch {
            throw PersistError.invalidConversion
        }
    }

    func remove(key: String) async throws {
        try await PersistedValue.query(on: database()).filter(\.$id == key).delete()
    }

    static func encode(_ value: some Encodable) throws -> String { String(decoding: try JSONEncoder().encode(value), as: UTF8.self) }
    static func date(_ duration: Duration) -> Date { Date(timeIntervalSinceNow: Double(duration.components.seconds)) }
}

/// One persisted value (a session): `demo_persist`.
final class PersistedValue: Model, @unchecked Sendable {
    static let schema = "demo_persist"

    @ID(custom: "key", generatedBy: .user) var id: String?
    @Field(key: "value") var value: String
    @OptionalField(key: "expires") var expires: Date?

    init() {}

    init(key: String, value: String, expires: Date?) {
        self.id = key
        self.value = value
        self.expires = expires
    }

    struct Migration: AsyncMigration {
        func prepare(on database: any Database) async throws {
            try await database.schema(PersistedValue.schema)
                .field("key", .string, .identifier(auto: false))
                .field("value", .string, .required)
                .field("expires", .datetime)
                .create()
        }

        func revert(on database: any Database) async throws {
            try await database.schema(PersistedValue.schema).delete()
        }
    }
}
