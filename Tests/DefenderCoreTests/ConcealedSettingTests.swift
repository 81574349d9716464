import DefenderCore
import DefenderTesting
import Foundation
import Testing

/// A configuration printed, dumped or interpolated into a log line never shows the Redis password in its URL,
/// whatever characters the password holds (each written percent-encoded, as the URL needs it).
@Suite struct ConcealedSettingTests {
    /// A random password of 12–40 characters from a set that holds every character a URL treats specially.
    static func password(_ random: inout SplitMix64) -> String {
        let alphabet = Array("abcXYZ0189-._~!$&'()*+,;=:@/?#[]% \"\\")
        let length = Int.random(in: 12...40, using: &random)
        return "Pw" + String((0..<length).map { _ in alphabet.randomElement(using: &random)! })
    }

    @Test func theRedisURLsPasswordIsNeverRendered() {
        var random = SplitMix64(seed: 0xC0C3A1)
        for _ in 0..<500 {
            let secret = Self.password(&random)
            let encoded = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            var configuration = DefenderConfiguration()
            configuration.redisURL = "redis://app:\(encoded)@cache.internal:6380/2"
            #expect(configuration.redisURL.contains(encoded), "the setting itself keeps its value")
            for text in everyRendering(of: configuration) {
                #expect(!text.contains(secret) && !text.contains(encoded), "\(secret)")
                #expect(text.contains("cache.internal:6380/2"), "what is not secret is still shown")
            }
        }
    }

    /// A configuration compares by its values, not by how they are shown.
    @Test func concealedSettingsCompareByValue() {
        var first = DefenderConfiguration()
        var second = DefenderConfiguration()
        first.redisURL = "redis://:one@host/0"
        second.redisURL = "redis://:two@host/0"
        #expect(first != second)
        second.redisURL = first.redisURL
        #expect(first == second)
    }
}
