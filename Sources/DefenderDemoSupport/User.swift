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

    public init() {}

    public init(username: String, passwordHash: String, isAdmin: Bool) {
        self.username = username
        self.passwordHash = passwordHash
        self.isAdmin = isAdmin
    }

    /// The user called `username` (normalised first), if any.
    public static func named(_ username: String?, on database: any Database) async throws -> User? {
        guard let key = username.flatMap(DemoAccounts.normalize) else { return nil }
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
}
