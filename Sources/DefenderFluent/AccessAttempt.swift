import DefenderCore
import FluentKit
import FluentSQL
import Foundation

/// One row of the audit log, in django-defender's table and column names (`defender_access_attempts`).
public final class AccessAttempt: Model, @unchecked Sendable {
    /// The table, `defender_access_attempts`.
    public static let schema = "defender_access_attempts"

    /// The row id.
    @ID(custom: "id", generatedBy: .database) public var id: Int?
    /// When the attempt was recorded (UTC).
    @Field(key: "attempt_time") public var attemptTime: Date
    /// The username as submitted, cut to 255 bytes (UTF-8, on a scalar); `nil` when there was none.
    @OptionalField(key: "username") public var username: String?
    /// The client address.
    @OptionalField(key: "ip_address") public var ipAddress: String?
    /// The `User-Agent` header.
    @Field(key: "user_agent") public var userAgent: String
    /// The `Accept` header.
    @Field(key: "http_accept") public var httpAccept: String
    /// The request path.
    @Field(key: "path_info") public var pathInfo: String
    /// Whether the password was right.
    @Field(key: "login_valid") public var loginValid: Bool

    /// An empty row, for Fluent.
    public init() {}

    /// A row for a record.
    public init(_ record: AccessAttemptRecord) {
        attemptTime = record.attemptTime
        username = record.username
        ipAddress = record.ipAddress
        userAgent = record.userAgent
        httpAccept = record.httpAccept
        pathInfo = record.pathInfo
        loginValid = record.loginValid
    }
}

/// Creates `defender_access_attempts` with the indexes the admin's filters use (time; IP or username, then
/// time), on SQLite and PostgreSQL.
public struct CreateAccessAttempt: AsyncMigration {
    /// The migration.
    public init() {}

    public var name: String { "Defender.CreateAccessAttempt" }

    /// Creates the table and its indexes.
    public func prepare(on database: any Database) async throws {
        try await database.schema(AccessAttempt.schema)
            .field("id", .int64, .identifier(auto: true))
            .field("attempt_time", .datetime, .required)
            .field("username", .string)
            .field("ip_address", .string)
            .field("user_agent", .string, .required)
            .field("http_accept", .string, .required)
            .field("path_info", .string, .required)
            .field("login_valid", .bool, .required)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        for (name, columns) in [
            ("defender_attempts_time", ["attempt_time"]), ("defender_attempts_ip_time", ["ip_address", "attempt_time"]),
            ("defender_attempts_username_time", ["username", "attempt_time"]),
        ] {
            let builder = sql.create(index: name).on(AccessAttempt.schema)
            for column in columns { _ = builder.column(column) }
            try await builder.run()
        }
    }

    /// Drops the table.
    public func revert(on database: any Database) async throws {
        try await database.schema(AccessAttempt.schema).delete()
    }
}
