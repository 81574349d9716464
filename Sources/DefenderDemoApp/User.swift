import Fluent
import Vapor

/// A demo account. Usernames are stored normalised (trimmed, lower-cased), as Defender keys them.
public final class User: Model, Authenticatable, ModelSessionAuthenticatable, @unchecked Sendable {
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

    public static let sessionID = \User.$id

    struct Migration: AsyncMigration {
        func prepare(on database: any Database) async throws {
            try await database.schema(User.schema)
                .id()
                .field("username", .string, .required)
                .field("password_hash", .string, .required)
                .field("is_admin", .bool, .required)
                .unique(on: "username")
                .create()
        }

        func revert(on database: any Database) async throws {
            try await database.schema(User.schema).delete()
        }
    }
}
