import Foundation

/// Which rows of the audit log to read: newest first, each filter optional.
public struct AccessAttemptFilter: Sendable, Hashable {
    /// Only this client address.
    public var ip: String?
    /// Only this username, as submitted.
    public var username: String?
    /// Only successes (`true`) or failures (`false`).
    public var valid: Bool?
    /// Only rows older than this row id (the next page).
    public var before: Int?
    /// The most rows returned.
    public var limit: Int

    /// A filter; every criterion left out matches every row.
    public init(ip: String? = nil, username: String? = nil, valid: Bool? = nil, before: Int? = nil, limit: Int = 50) {
        self.ip = ip
        self.username = username
        self.valid = valid
        self.before = before
        self.limit = limit
    }
}

/// A row of the audit log as it was stored, with its id.
public struct StoredAccessAttempt: Sendable, Hashable {
    /// The row id; higher is newer.
    public var id: Int
    /// The row.
    public var record: AccessAttemptRecord

    /// A stored row.
    public init(id: Int, record: AccessAttemptRecord) {
        self.id = id
        self.record = record
    }
}

/// An audit log that can be read back and pruned: what the admin's attempt list and `defender cleanup` need
/// (`FluentAccessLog` in `DefenderFluent` is one).
public protocol AccessAttemptHistory: Sendable {
    /// The rows that match `filter`, newest first.
    /// - Throws: the database's error.
    func attempts(matching filter: AccessAttemptFilter) async throws -> [StoredAccessAttempt]

    /// Deletes every row recorded before `cutoff`.
    /// - Returns: how many rows were deleted.
    /// - Throws: the database's error.
    func deleteAttempts(before cutoff: Date) async throws -> Int
}
