import DefenderCore
import HTTPTypes
import Logging

extension DefenderError {
    /// The HTTP status of this error in every integration: `400` for what the client sent, `503` for a store that
    /// cannot answer or an admission that waited too long, else `500`.
    package var httpStatus: Int {
        switch code {
        case .malformedForwardingHeader, .invalidKey: 400
        case .storeUnavailable, .storeFault, .admissionTimeout: 503
        default: 500
        }
    }

    /// `Retry-After: 1` for an admission timeout: checks in flight finish within a password check or two.
    package var retryAfterSeconds: Int? { code == .admissionTimeout ? 1 : nil }

    /// The error as a problem answer (its message says what happened; it never holds a secret).
    package var answer: HTTPAnswer { answer(json: true) }

    /// The error as an answer: problem+json, or for a client that wants HTML a small page with the same message.
    package func answer(json: Bool) -> HTTPAnswer {
        var fields = HTTPFields()
        if let seconds = retryAfterSeconds { fields[.retryAfter] = String(seconds) }
        return json
            ? .problem(status: httpStatus, detail: message, fields: fields)
            : .page(status: httpStatus, title: HTTPAnswer.reasonPhrase(httpStatus), paragraphs: [message], fields: fields)
    }

    /// The level at which an integration logs this error: what a client causes once per request (an admission
    /// that waited too long, a store refused under the `closed` policy, a malformed forwarding header, an invalid
    /// key) at `debug`, so that an app logging at `info` gets no line per request from an attack or an outage;
    /// what someone must fix (the configuration, a store that answers with an error) at `error`.
    package var answerLogLevel: Logger.Level {
        switch code {
        case .admissionTimeout, .storeUnavailable, .malformedForwardingHeader, .invalidKey: .debug
        case .invalidConfiguration, .storeFault: .error
        default: .warning
        }
    }
}
