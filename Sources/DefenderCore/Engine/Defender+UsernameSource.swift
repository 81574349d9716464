import CoreMetrics
import Logging
import Synchronization

extension Defender {
    /// Reports a login that succeeded on `route` although Defender read no username from it: the route's username
    /// source does not match the requests it accepts (a path parameter the route does not have, a field name its
    /// form does not use), so its usernames are not counted and only the client's address is. Never silent:
    /// `defender_logins_without_username_total` counts every one, and the first on each route (up to 64 routes)
    /// is logged at warning with the route and the source. A failed login without a username is not reported:
    /// an attacker can send one at will.
    /// - Parameters:
    ///   - route: the route as registered (`/login`, `/users/:name/login`), never the request's own path, so that
    ///     a client cannot fill the log or the set of reported routes.
    ///   - source: where the route read the username (a ``UsernameSource``, or the credentials type it decoded).
    package func reportLoginWithoutUsername(route: String, source: String) {
        metrics.successWithoutUsername.increment()
        let first = routesWithoutUsername.withLock { routes in
            guard routes.count < 64, !routes.contains(route) else { return false }
            routes.insert(route)
            return true
        }
        guard first else { return }
        logger.warning(
            "a login succeeded but no username was read from it: this route counts client addresses only. Give the route the username source its requests use (watchLogin(usernameFrom:), DefenderLoginMiddleware(usernameFrom:), or a credentials type), or .ipOnly if that is intended",
            metadata: ["route": "\(route)", "username_source": "\(source)"])
    }
}
