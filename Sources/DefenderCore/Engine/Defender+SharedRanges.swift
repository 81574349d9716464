extension Defender {
    /// The attempt of a login from `ip` for `username`: its keys as the rules count them. A client in a shared range
    /// (``DefenderConfiguration/sharedIPRanges``) that names a username is counted by the pair of its address and
    /// the username in the IP dimension (``DefenderKey/Kind/pair``), so that an attacker behind a carrier-grade NAT
    /// never locks the address that everyone else there shares. Without a username there is no pair: the address
    /// counts, as for any client.
    /// - Parameters:
    ///   - ip: the client, from ``resolver``.
    ///   - username: the submitted username, as typed.
    ///   - context: the request's details for the audit log.
    public func attempt(ip: ClientAddress, username: String?, context: AttemptContext? = nil) -> LoginAttempt {
        var attempt = LoginAttempt(ip: ip, submittedUsername: username, context: context)
        if let usernameKey = attempt.usernameKey, sharedRanges.contains(ip.address) {
            attempt.ipKey = .pair(address: attempt.ipKey, username: usernameKey)
        }
        return attempt
    }
}
