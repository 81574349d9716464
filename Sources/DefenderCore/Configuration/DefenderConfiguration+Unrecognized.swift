extension DefenderConfiguration {
    /// The `DEFENDER_*` variables ``fromEnvironment(_:)`` found that are not Defender settings, by name: a
    /// misspelt setting (`DEFENDER_LOGIN_FAILURE_LIMT`) leaves the real one at its default, so the integrations
    /// warn about each at start-up (see ``suggestion(for:)``), naming it — never its value, which may be a secret.
    /// Names under ``reservedPrefixes`` are left out. Empty for a configuration built in code.
    public var unrecognizedEnvironmentVariables: [String] { unrecognized.names }

    /// The setting an unrecognized `DEFENDER_*` name most likely meant, or `nil` when none is close:
    /// `DEFENDER_IP_WHITELIST` → `DEFENDER_IP_ALLOWLIST`, `DEFENDER_IP_FAILURE_LIMIT` →
    /// `DEFENDER_LOGIN_FAILURE_LIMIT_IP`, `DEFENDER_LOGIN_FAILURE_LIMT` → `DEFENDER_LOGIN_FAILURE_LIMIT`.
    public static func suggestion(for name: String) -> String? {
        // The older words for the lists (django-axes', early Django's) mean our lists.
        let name = name.uppercased().replacing("WHITELIST", with: "ALLOWLIST").replacing("BLACKLIST", with: "DENYLIST")
        if environmentVariables.contains(name) { return name }
        let words = Set(name.split(separator: "_").dropFirst())
        var best: (name: String, shared: Int, distance: Int)?
        for candidate in environmentVariables {
            let shared = words.intersection(candidate.split(separator: "_").dropFirst()).count
            let distance = editDistance(Array(name.utf8), Array(candidate.utf8))
            // Close enough to be the same name: most of its words, or a typo or two.
            guard shared >= 2 || distance <= 3 else { continue }
            if let current = best, (current.shared, -current.distance) >= (shared, -distance) { continue }
            best = (candidate, shared, distance)
        }
        return best?.name
    }

    /// The number of single-byte insertions, deletions and substitutions that turn `a` into `b`.
    static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// Names kept beside the settings; never makes two configurations differ (they are not settings).
    struct Unrecognized: Sendable, Equatable {
        var names: [String] = []
        static func == (_: Self, _: Self) -> Bool { true }
    }
}
