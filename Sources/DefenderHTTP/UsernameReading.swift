import DefenderCore

/// Where a login request's username is read: decided here once for every integration, which only performs the
/// reading it is handed.
///
/// The route's own source wins when it gives one; else the app's (`DefenderConfiguration/usernameSource`). A
/// source that reads nothing (`UsernameSource/ipOnly`) reads nothing, whichever of the two it is: the client's
/// address alone is counted.
package enum UsernameReading: Sendable, Hashable {
    /// No username: the client's address alone is counted.
    case none
    /// The route's path parameter of this name.
    case pathParameter(String)
    /// This field of the request body, decoded with the app's decoder for the request's media type.
    case bodyField(String)

    /// The reading for a route whose own source is `source` (`nil`: the app's), under `configuration`.
    package init(route source: UsernameSource?, configuration: DefenderConfiguration) {
        let source = source ?? configuration.usernameSource
        if !source.readsUsername {
            self = .none
        } else if let parameter = source.parameter {
            self = .pathParameter(parameter)
        } else {
            self = .bodyField(configuration.usernameFormField)
        }
    }

    /// How the source is named in the report of a login that succeeded with no username read (`nil`: none was
    /// expected, the source reads nothing on purpose).
    package static func expected(route source: UsernameSource?, configuration: DefenderConfiguration) -> String? {
        let source = source ?? configuration.usernameSource
        return source.readsUsername ? source.description : nil
    }
}
