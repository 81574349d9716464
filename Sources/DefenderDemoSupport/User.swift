import FluentKit
import Foundation

/// A demo account, the same table for both demos. Usernames are stored normalised (trimmed, lower-cased), as
/// Defender keys them.
public final class User: Model, @unchecked Sendable {
    public static let schema = "users"

    @ID(key: .id) public var id: UUID?
    @Field(key: "username") public var username: String
    @Field(key: "password_hash") public var passwordHash: String
    @Field(key: "is_admin") public var isAdmin: Bool
    /// Where the unlock e-mail goes when the account is locked (`create-user --email`).
    @OptionalField(key: "email") public var email: String?

    public init() {}

    public init(username: String, passwordHash: String, isAdmin: Bool, email: String? = nil) {
        self.username = username
        self.passwordHash = passwordHash
        self.isAdmin = isAdmin
        self.email = email
    }

    /// The e-mail address of `username` (normalised), if the account has one: the unlock e-mail's lookup.
    public static func emailAddress(of username: String, on database: any Database) async throws -> String? {
        try await named(username, on: database)?.email
    }

    /// The user called `username` (normalised first), if any.
    public static func named(_ username: String?, on database: any Database) async throws -> User? {
        // A name with a NUL names no account (none can be created): PostgreSQL refuses it in a query, and a login
        // that fails on the database is not counted — an attacker's free guess and a 500.
        guard let key = username.flatMap(DemoAccounts.normalize), !key.utf8.contains(0) else { return nil }
        return try await User.query(on: database).filter(\.$username == key).first()
    }

    /// Creates the `users` table.
    public struct Migration: AsyncMigration {
        public init() {}

        public func prepare(on database: any Database) async throws {
            try await database.schema(User.schema)
                .id()
                .field("username", .string, .required)
                .field("password_hash", .string, .required)
                .field("is_admin", .bool, .required)
                .unique(on: "username")
                .create()
        }

        public func revert(on database: any Database) async throws {
            try await database.schema(User.schema).delete()
        }
    }

    /// Adds the `email` column (unlock e-mails), to databases created before it.
    public struct AddEmail: AsyncMigration {
        public init() {}

        public func prepare(on database: any Database) async throws {
            try await database.schema(User.schema).field("email", .string).update()
        }

        public func revert(on database: any Database) async throws {
            try await database.schema(User.schema).deleteField("email").update()
        }
    }
}
