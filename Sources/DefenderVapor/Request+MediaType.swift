import DefenderHTTP
import Vapor

extension DefenderRequest {
    /// Makes the request's `Content-Type` one that every process reads alike, before Defender decodes the body with
    /// the app's decoders; `false` when the body has no single media type to read (nothing is then read: the
    /// request names no username and is counted against its IP, as any unreadable body).
    ///
    /// Vapor finds a body's decoder in a dictionary keyed by `HTTPMediaType`, whose `==` ignores case and treats `*`
    /// as a wildcard while its hash does neither: `APPLICATION/JSON` or `*/*` found the JSON decoder in some
    /// processes and not in others (the hash seed changes per process), so one login was read on one instance and
    /// counted as unreadable on the next. Media types and parameter names are case-insensitive (RFC 9110 §8.3.1):
    /// they are lower-cased here. A wildcard or a list (two `Content-Type` fields, or two types in one, of which
    /// Vapor reads the first) names no single type, as `DefenderHTTP` rules for every integration.
    ///
    /// A body Defender does not read is not read by the app's handler either: its `Content-Type` is removed, so
    /// that `req.content` finds no decoder (`415`) instead of reading the first of a list — or whatever the hash
    /// seed finds for a wildcard — and checking a password whose username Defender did not count.
    ///
    /// Done once per request (Defender's reading, then each `formField(_:)` the handler asks for).
    func prepareContentType() -> Bool {
        let state = self.state
        if let readable = state.withLockedValue({ $0.readableBody }) { return readable }
        let readable = canonicalizeContentType()
        state.withLockedValue { $0.readableBody = readable }
        return readable
    }

    private func canonicalizeContentType() -> Bool {
        let values = request.headers[.contentType]
        guard values.count == 1, URLEncodedForm.mediaType(values[0]) != nil, let type = request.headers.contentType else {
            if !values.isEmpty { request.headers.remove(name: .contentType) }
            return false
        }
        // Parameter names are unique, case aside (`URLEncodedForm.mediaType` refuses a repeated one).
        let canonical = HTTPMediaType(
            type: type.type.lowercased(), subType: type.subType.lowercased(),
            parameters: Dictionary(type.parameters.map { ($0.key.lowercased(), $0.value) }) { min($0, $1) })
        guard canonical.type != type.type || canonical.subType != type.subType || canonical.parameters != type.parameters else { return true }
        request.headers.replaceOrAdd(name: .contentType, value: Self.serialize(canonical))
        return true
    }

    /// `type/subtype; name=value`, a value quoted when it is not a token (a multipart boundary may hold `:` or `=`).
    static func serialize(_ type: HTTPMediaType) -> String {
        type.parameters.sorted { $0.key < $1.key }.reduce("\(type.type)/\(type.subType)") { text, parameter in
            let value = !parameter.value.isEmpty && parameter.value.allSatisfy(URLEncodedForm.isTokenCharacter)
                ? parameter.value
                : "\"" + parameter.value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
            return text + "; \(parameter.key)=\(value)"
        }
    }
}
