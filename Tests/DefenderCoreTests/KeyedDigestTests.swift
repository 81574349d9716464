import DefenderCore
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
}
