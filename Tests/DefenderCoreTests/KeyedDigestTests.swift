import Crypto
import DefenderCore
import Foundation
import Testing

/// The keyed digests Defender signs with, against RFC 4231's known answers.
@Suite struct KeyedDigestTests {
    @Test func signatureIsHMACSHA256() {
        // RFC 4231, test case 2.
        #expect(KeyedDigest.signature(of: Array("what do ya want for nothing?".utf8), key: "Jefe")
            == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // A tag is tied to its purpose and its key.
        let tag = KeyedDigest.tag("notice", key: "k", purpose: "a")
        #expect(tag.count == 32 && tag != KeyedDigest.tag("notice", key: "k", purpose: "b") && tag != KeyedDigest.tag("notice", key: "l", purpose: "a"))
    }

    /// Device cookies and unlock links are signed as their documentation says, `HMAC-SHA-256(HMAC-SHA-256(secret,
    /// purpose), message)`, recomputed here with swift-crypto alone: what an earlier release signed still verifies,
    /// and a value made by hand that way is accepted, under the first key and under a rotated-out second one.
    @Test func cookiesAndLinksAreSignedAsDocumented() throws {
        let (current, previous) = ("current-secret-key-of-32-characters!", "previous-secret-key-of-32-characters")
        func mac(_ secret: String, _ purpose: String, _ message: String) -> String {
            let key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(purpose.utf8), using: SymmetricKey(data: Data(secret.utf8)))))
            return Base64URL.encode(Array(HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key)))
        }
        var config = DefenderConfiguration()
        config.secretKeys = [DefenderSecret(current), DefenderSecret(previous)]
        let ada = try #require(DefenderKey.username("ada"))
        let now = Date(timeIntervalSince1970: 1_800_000_000)

        let cookies = try #require(DeviceCookies(configuration: config))
        let cookie = cookies.issue(for: ada, now: now).split(separator: ".").map(String.init)
        #expect(cookie[3] == mac(current, "defender/device-cookie/v1", "defender-device|1|\(cookie[1])|\(cookie[2])|ada"))
        let device = String(repeating: "5a", count: 16)
        for secret in [current, previous] {
            let made = "1.1800000600.\(device).\(mac(secret, "defender/device-cookie/v1", "defender-device|1|1800000600|\(device)|ada"))"
            #expect(cookies.device(from: made, for: ada, now: now)?.value == device)
        }
        let forged = "1.1800000600.\(device).\(mac("another-secret-key-of-32-characters!", "defender/device-cookie/v1", "defender-device|1|1800000600|\(device)|ada"))"
        #expect(cookies.device(from: forged, for: ada, now: now) == nil)

        let links = try #require(UnlockLinks(configuration: config))
        let token = links.issue(for: ada, now: now).token.split(separator: ".").map(String.init)
        #expect(token[4] == mac(current, "defender/unlock-link/v1", token[0...3].joined(separator: ".")))
        let body = "1.1800000600.\(device).\(Base64URL.encode(Array("ada".utf8)))"
        for secret in [current, previous] {
            let read = links.read("\(body).\(mac(secret, "defender/unlock-link/v1", body))", now: now)
            #expect((try? read.get())?.nonce == device)
        }
        // A cookie's MAC does not pass for a link's, though both come from the same secret.
        #expect((try? links.read("\(body).\(mac(current, "defender/device-cookie/v1", body))", now: now).get()) == nil)
    }
}
