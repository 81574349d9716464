/// One string field of a body, decoded as the app's own `Decodable` types are (the field named by a task-local,
/// since a `Decodable` cannot take arguments and decoder `userInfo` would take another decoding path).
package struct BodyField: Decodable, Sendable {
    @TaskLocal package static var name = "username"
    package let value: String?

    struct Key: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    package init(from decoder: any Decoder) throws {
        value = try decoder.container(keyedBy: Key.self).decodeIfPresent(String.self, forKey: Key(stringValue: Self.name))
    }
}

extension BodyField {
    /// The field `name` read by `decode`, the app's own decoding of its body; `nil` when the body does not decode
    /// or has no such string.
    package static func read(_ name: String, with decode: () async throws -> BodyField) async -> String? {
        await $name.withValue(name) { try? await decode().value }
    }
}
