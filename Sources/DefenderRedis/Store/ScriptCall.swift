/// One call of a Defender Lua script, typed: its fields name every `KEYS` and `ARGV` slot once, and from that one
/// list come both the values sent and the Lua prologue that gives each slot a local name and a type. So Swift and
/// Lua cannot disagree about positions, and no script reads `ARGV[11]`.
///
/// Absence is explicit, never an empty-string sentinel: keys that exist only with a username are sent after all
/// others and only when there is one (their locals are `nil` otherwise, and `has_user` says which), and an
/// optional argument arrives as `nil`.
protocol ScriptCall: Sendable {
    /// The slots, in order. Username keys may appear anywhere in the list; they are sent after the other keys.
    static var fields: [ScriptField<Self>] { get }
    /// The script, built once by `makeScript(_:body:)`.
    static var script: RedisScript { get }
}

/// A named slot of a script and how to read it from a call.
struct ScriptField<Call>: Sendable {
    enum Kind: Sendable {
        /// A key, always sent.
        case key
        /// A key sent only with a username; `nil` in Lua without one.
        case usernameKey
        /// `tonumber(ARGV[i])`.
        case number
        /// `ARGV[i] == '1'`.
        case flag
        /// The string as sent.
        case text
        /// A string or `nil`.
        case optionalText
        /// A number or `nil`.
        case optionalNumber
        /// A list of numbers (a Lua table).
        case numbers
    }

    let name: String
    let kind: Kind
    /// The value as sent; `nil` only for the optional kinds and username keys.
    let value: @Sendable (Call) -> String?

    static func key(_ name: String, _ value: @escaping @Sendable (Call) -> String) -> Self { Self(name: name, kind: .key, value: value) }
    static func usernameKey(_ name: String, _ value: @escaping @Sendable (Call) -> String?) -> Self {
        Self(name: name, kind: .usernameKey, value: value)
    }
    static func number(_ name: String, _ value: @escaping @Sendable (Call) -> Int64) -> Self {
        Self(name: name, kind: .number) { String(value($0)) }
    }
    /// A number the caller has formatted already (the constant part of a policy, encoded once).
    static func encodedNumber(_ name: String, _ value: @escaping @Sendable (Call) -> String) -> Self {
        Self(name: name, kind: .number, value: value)
    }
    static func flag(_ name: String, _ value: @escaping @Sendable (Call) -> Bool) -> Self {
        Self(name: name, kind: .flag) { value($0) ? "1" : "0" }
    }
    static func text(_ name: String, _ value: @escaping @Sendable (Call) -> String) -> Self { Self(name: name, kind: .text, value: value) }
    static func optionalText(_ name: String, _ value: @escaping @Sendable (Call) -> String?) -> Self {
        Self(name: name, kind: .optionalText, value: value)
    }
    static func optionalNumber(_ name: String, _ value: @escaping @Sendable (Call) -> Int64?) -> Self {
        Self(name: name, kind: .optionalNumber) { value($0).map(String.init) }
    }
    /// Numbers the caller has joined with commas already.
    static func numbers(_ name: String, _ value: @escaping @Sendable (Call) -> String) -> Self { Self(name: name, kind: .numbers, value: value) }

    var isKey: Bool { kind == .key || kind == .usernameKey }
}

extension ScriptCall {
    /// The `KEYS` and `ARGV` of this call.
    var encoded: (keys: [String], arguments: [String]) {
        var keys: [String] = []
        var usernameKeys: [String] = []
        var arguments: [String] = []
        for field in Self.fields {
            let value = field.value(self)
            switch field.kind {
            case .key: keys.append(value ?? "")
            case .usernameKey: if let value { usernameKeys.append(value) }
            // A present optional value is sent behind a `=`, so that an absent one ('') can never be read as a value.
            case .optionalText, .optionalNumber: arguments.append(value.map { "=" + $0 } ?? "")
            case .number, .flag, .text, .numbers: arguments.append(value ?? "")
            }
        }
        return (keys + usernameKeys, arguments)
    }

    /// The Lua that names every slot of `fields`.
    static var prologue: String {
        let keys = fields.filter { $0.kind == .key } + fields.filter { $0.kind == .usernameKey }
        var lines = keys.enumerated().map { index, field in "local \(field.name) = KEYS[\(index + 1)]" }
        if let first = keys.first(where: { $0.kind == .usernameKey }) { lines.append("local has_user = \(first.name) ~= nil") }
        for (index, field) in fields.filter({ !$0.isKey }).enumerated() {
            let slot = "ARGV[\(index + 1)]"
            switch field.kind {
            case .number: lines.append("local \(field.name) = tonumber(\(slot))")
            case .flag: lines.append("local \(field.name) = \(slot) == '1'")
            case .text: lines.append("local \(field.name) = \(slot)")
            case .optionalText: lines.append("local \(field.name) = \(slot) ~= '' and string.sub(\(slot), 2) or nil")
            case .optionalNumber: lines.append("local \(field.name) = \(slot) ~= '' and tonumber(string.sub(\(slot), 2)) or nil")
            case .numbers:
                lines.append("local \(field.name) = {}")
                lines.append("for n in string.gmatch(\(slot), '[^,]+') do table.insert(\(field.name), tonumber(n)) end")
            case .key, .usernameKey: break
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The script: a Redis 7 shebang with `flags`, the shared prelude, the prologue, and `body`.
    static func makeScript(_ flags: ScriptFlags, body: String) -> RedisScript {
        RedisScript(flags.shebang + "\n" + RedisScripts.prelude + prologue + body)
    }
}

/// A script's shebang flags, by which Redis judges it before running it (see `RedisScripts`).
enum ScriptFlags {
    /// May add data: refused whole with `OOM` when memory is full, and with `READONLY` on a replica.
    case writes
    /// Only reads: runs anywhere.
    case noWrites
    /// Only deletes: still runs when memory is full, so that it frees some.
    case allowOOM

    var shebang: String {
        switch self {
        case .writes: "#!lua"
        case .noWrites: "#!lua flags=no-writes"
        case .allowOOM: "#!lua flags=allow-oom"
        }
    }
}
