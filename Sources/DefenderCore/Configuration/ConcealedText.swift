/// The storage of a setting that holds a secret inside ordinary text (a Redis URL with its password, a password):
/// it prints, dumps and reflects with the secret hidden, so that `dump(configuration)`, `print(configuration)` or
/// a configuration interpolated into a log line never shows it. The public property stays a plain `String`; only
/// its storage is this type, because a struct's default reflection shows every stored property.
package struct ConcealedText: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// How much of the text is hidden.
    package enum Concealment: Sendable, Hashable {
        /// A URL: its credentials and secret options (``URLRedaction``).
        case url
        /// All of it.
        case whole
    }

    /// The text itself, for the code that connects with it.
    package var value: String
    /// How it is shown.
    package let concealment: Concealment

    package init(_ value: String, concealing concealment: Concealment) {
        self.value = value
        self.concealment = concealment
    }

    package var description: String {
        switch concealment {
        case .url: URLRedaction.redact(value)
        case .whole: "***"
        }
    }

    package var debugDescription: String { description }

    package var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
