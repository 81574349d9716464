import DefenderCore
import HTTPTypes

extension LoginRequest {
    /// HTTP Basic authentication under protection (django-defender's `BasicAuthenticationDefender`), one flow for
    /// every integration: no Basic credentials get the `401` challenge, uncounted (a browser asks that way first);
    /// an `Authorization` header over `BasicCredentials/maximumHeaderLength` a `400`, never checked; malformed
    /// credentials, with no password to check, are counted as an attempt and get the lockout or the challenge;
    /// credentials are admitted (a locked IP or username gets the lockout and never reaches `verify`), checked by
    /// `verify` (`nil`: wrong) and counted — a wrong pair gets the challenge or, crossing a limit, the lockout, a
    /// right one `next`'s response with the protection's fields. Every method counts: a Basic request carries
    /// credentials to check. Lockouts are answered as problem+json, for API clients.
    package mutating func protectBasic<Verified: Sendable>(
        authorization: [String], realm: String,
        verify: (Self, _ username: String, _ password: String) async throws -> Verified?,
        next: (Self, Verified) async throws -> Response
    ) async throws -> Response {
        func challenge(_ detail: String) -> Response { response(.basicChallenge(realm: realm, detail: detail)) }
        let entry = self
        return try await Self.answeringErrors(of: entry, format: .json) {
            switch BasicCredentials.parse(authorization) {
            case .absent:
                return challenge("Authentication required.")
            case .tooLarge:
                return response(.problem(status: 400, detail: "The Authorization header is too large."))
            case .malformed(let username):
                cacheUsername(username)
                if let lockout = try await countAttempt(username: username) { return try await lockoutResponse(lockout, format: .json) }
                return challenge("The Basic credentials are malformed.")
            case .credentials(let username, let password):
                cacheUsername(username)
                let result = try await protect(
                    username: username, counted: true, expecting: { "Authorization: Basic" }, classify: { $0 == nil ? .failure : .success }
                ) { login in try await appCode { try await verify(login, username, password) } }
                switch result {
                case .locked(let lockout): return try await lockoutResponse(lockout, format: .json)
                case .answered(nil, _): return challenge("Invalid username or password.")
                case .answered(let verified?, let fields): return response(try await appCode { try await next(self, verified) }, adding: fields)
                }
            }
        }
    }
}
