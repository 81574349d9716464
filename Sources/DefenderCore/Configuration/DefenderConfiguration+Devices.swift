/// A secret setting's value: it prints, dumps and reflects as `********`, so that a configuration logged or
/// interpolated into an error never shows it.
public struct DefenderSecret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The secret itself, for the code that signs with it.
    package let value: String

    /// A secret.
    /// - Parameter value: the secret's text.
    public init(_ value: String) { self.value = value }

    /// `********`.
    public var description: String { "********" }
    /// `********`.
    public var debugDescription: String { "********" }
    /// A mirror with nothing in it.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// The settings of device cookies (OWASP's "Slow Down Online Guessing Attacks with Device Cookies").
///
/// A successful login sets a signed cookie that binds the normalised username and a random device identifier. A
/// later login for that username carrying it is a *trusted client*: the username's lockout does not refuse it (IP
/// blocks, deny lists and admission still do), and its failures count against the device instead of the
/// username, so an attacker who locks an account by failing on purpose does not lock out its owner's browser.
/// On when ``DefenderConfiguration/secretKeys`` is set.
public struct DeviceCookieSettings: Sendable, Equatable {
    /// `DEFENDER_DEVICE_COOKIE_NAME`: the cookie's name.
    public var name: String = "defender_device"
    /// `DEFENDER_DEVICE_COOKIE_AGE` (days): how long a device cookie is valid after the login that set it.
    public var age: Duration = .seconds(365 * 86400)
    /// `DEFENDER_DEVICE_FAILURE_LIMIT`: failures a trusted device may have before it is locked (for the lockout
    /// cool-off) and judged like any other client; `nil` means ``DefenderConfiguration/loginFailureLimit``.
    public var failureLimit: Int? = nil

    /// Device cookies with the defaults.
    public init() {}
}

extension DefenderConfiguration {
    /// Whether device cookies are on (``secretKeys`` is set).
    public var deviceCookiesEnabled: Bool { !secretKeys.isEmpty }

    /// The failures a trusted device may have (``DeviceCookieSettings/failureLimit``, else the login limit).
    public var deviceFailureLimit: Int { deviceCookies.failureLimit ?? loginFailureLimit }

    /// The shortest secret key accepted, in characters.
    public static let minimumSecretKeyLength = 32

    /// The longest device-cookie lifetime accepted (ten years).
    public static let maximumDeviceCookieAge = Duration.seconds(3650 * 86400)

    /// Reads `DEFENDER_SECRET_KEY` and the device-cookie settings.
    static func readDeviceCookies(_ reader: EnvironmentReader, into config: inout DefenderConfiguration) throws(DefenderError) {
        if let raw = reader.string("DEFENDER_SECRET_KEY") {
            // Split without dropping empty items: "key1,,key2" or a trailing comma is a mistake, not one key less.
            config.secretKeys = raw.split(separator: ",", omittingEmptySubsequences: false).map {
                DefenderSecret(String($0.trimmingASCIIWhitespace()))
            }
        }
        if let value = reader.string("DEFENDER_DEVICE_COOKIE_NAME") { config.deviceCookies.name = value }
        if let days = try reader.count("DEFENDER_DEVICE_COOKIE_AGE", unit: "days") { config.deviceCookies.age = .seconds(days * 86400) }
        if let value = try reader.count("DEFENDER_DEVICE_FAILURE_LIMIT") { config.deviceCookies.failureLimit = value }
    }

    /// Checks the secret keys and the device-cookie settings. Messages never quote a key.
    func validateDeviceCookies() throws(DefenderError) {
        func fail(_ setting: String, _ message: String) -> DefenderError {
            DefenderError(.invalidConfiguration, message, setting: setting)
        }
        for (index, key) in secretKeys.enumerated() {
            let position = secretKeys.count == 1 ? "the key" : "key \(index + 1) of \(secretKeys.count)"
            if key.value.isEmpty {
                throw fail("DEFENDER_SECRET_KEY", "\(position) is empty; give comma-separated keys of at least \(Self.minimumSecretKeyLength) characters")
            }
            if key.value.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) {
                throw fail("DEFENDER_SECRET_KEY", "\(position) contains a space or a control character")
            }
            if key.value.count < Self.minimumSecretKeyLength {
                throw fail(
                    "DEFENDER_SECRET_KEY",
                    "\(position) has \(key.value.count) characters; each key needs at least \(Self.minimumSecretKeyLength) "
                        + "(for instance the output of: openssl rand -base64 32)")
            }
        }
        let name = deviceCookies.name
        if name.isEmpty || name.utf8.count > 64 || !name.utf8.allSatisfy(Self.isCookieNameByte) {
            throw fail("DEFENDER_DEVICE_COOKIE_NAME", "must be 1 to 64 letters, digits or !#$%&'*+-.^_`|~ (a cookie name)")
        }
        if deviceCookies.age < .seconds(86400) || deviceCookies.age > Self.maximumDeviceCookieAge {
            throw fail("DEFENDER_DEVICE_COOKIE_AGE", "must be a whole number of days from 1 to 3650")
        }
        if let limit = deviceCookies.failureLimit, !(1...Self.maximumCount).contains(limit) {
            throw fail("DEFENDER_DEVICE_FAILURE_LIMIT", "must be a whole number from 1 to \(Self.maximumCount), or unset for the login limit")
        }
    }

    /// A byte of an RFC 6265 cookie name (an HTTP token).
    static func isCookieNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
