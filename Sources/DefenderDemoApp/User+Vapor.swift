import DefenderDemoSupport
import Fluent
import Vapor

/// Vapor's authentication of the shared `User` model: in requests and in the session (by its id).
extension User: Authenticatable, ModelSessionAuthenticatable {}
