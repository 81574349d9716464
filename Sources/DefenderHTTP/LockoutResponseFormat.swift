import DefenderCore

/// The format of a lockout response.
public struct LockoutResponseFormat: Sendable, Hashable {
    package enum Base: Hashable, Sendable { case automatic, html, json }
    package let base: Base

    /// `application/problem+json` when the client asks for JSON (its `Accept`, or a JSON body with no HTML in
    /// `Accept`), else HTML (or the configured template or redirect).
    public static let automatic = LockoutResponseFormat(base: .automatic)
    /// Always the HTML page, template or redirect.
    public static let html = LockoutResponseFormat(base: .html)
    /// Always `application/problem+json`; never the `LOCKOUT_URL` redirect.
    public static let json = LockoutResponseFormat(base: .json)
}

extension LockoutResponseFormat {
    /// Whether a response in this format is problem+json for a client that sent these headers.
    /// - Parameters:
    ///   - accept: the `Accept` field values.
    ///   - contentType: the `Content-Type` field values (a body is JSON only with one field naming one type).
    package func isJSON(accept: [String], contentType: [String]) -> Bool {
        self == .json || (self == .automatic && ClientPreference.wantsJSON(accept: accept, contentType: contentType))
    }
}
