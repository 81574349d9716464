import DefenderCore
import Foundation

/// `{"entries": [...]}`: the stored deny list as the admin API's `/denylist` and `defender denylist --json` show it.
struct DenylistPage: Codable {
    struct Row: Codable {
        var network: String
        var note: String
        var createdAt: Date

        init(_ entry: StoredDenylistEntry) {
            network = entry.network.description
            note = entry.note
            createdAt = entry.createdAt
        }
    }

    var entries: [Row]
}

/// `{"attempts": [...]}`: the admin API's `/attempts`.
struct AttemptsPage: Encodable {
    /// A row with the table's column names.
    struct Row: Encodable {
        var id: Int
        var attempt_time: Date
        var username: String?
        var ip_address: String?
        var user_agent: String
        var http_accept: String
        var path_info: String
        var login_valid: Bool

        init(_ stored: StoredAccessAttempt) {
            let row = stored.record
            id = stored.id
            attempt_time = row.attemptTime
            username = row.username
            ip_address = row.ipAddress.isEmpty ? nil : row.ipAddress
            user_agent = row.userAgent
            http_accept = row.httpAccept
            path_info = row.pathInfo
            login_valid = row.loginValid
        }

        enum CodingKeys: String, CodingKey {
            case id, attempt_time, username, ip_address, user_agent, http_accept, path_info, login_valid
        }

        /// Every column is written, `null` included (an empty username is `null`, not a missing field).
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(attempt_time, forKey: .attempt_time)
            try container.encode(username, forKey: .username)
            try container.encode(ip_address, forKey: .ip_address)
            try container.encode(user_agent, forKey: .user_agent)
            try container.encode(http_accept, forKey: .http_accept)
            try container.encode(path_info, forKey: .path_info)
            try container.encode(login_valid, forKey: .login_valid)
        }
    }

    var attempts: [Row]
}

/// The body of `POST api/block` and `api/unblock`.
struct KeyBody: Decodable {
    var ip: String?
    var username: String?
    /// A blocked device, for `api/unblock` alone (devices are locked by failures only).
    var device: String?
    var seconds: Int?
}

/// The body of `POST api/denylist` and `api/denylist/remove`.
struct DenylistBody: Decodable {
    var network: String
    var note: String?
}
