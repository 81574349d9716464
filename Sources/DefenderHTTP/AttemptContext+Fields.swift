import DefenderCore

extension AttemptContext {
    /// A request's details for the audit log, from its fields as every integration reads them: every value of
    /// `User-Agent` and of `Accept`, joined with `, ` as HTTP combines a repeated field (one framework hands out the
    /// first value, another the joined ones, so the same request would be logged two ways), and the path as sent.
    /// - Parameters:
    ///   - userAgent: every `User-Agent` field value, in order.
    ///   - accept: every `Accept` field value, in order.
    ///   - path: the request's path, still percent-encoded.
    package init(userAgent: [String], accept: [String], path: String) {
        self.init(userAgent: userAgent.joined(separator: ", "), httpAccept: accept.joined(separator: ", "), pathInfo: path)
    }
}
