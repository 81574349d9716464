import DefenderCore
import Testing

@Suite struct IPAddressTests {
    // Ported: test_is_valid_ip (django-defender tests.py #28).
    @Test(arguments: [
        "192.168.0.1", "130.80.100.24", "8.8.8.8", "127.0.0.1", "fe80::9cb4:c5ff:fe95:a95d", "::1",
        "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "::ffff:192.0.2.128", "::ffff:8.8.8.8", "0.0.0.0", "::",
        "fe80::1%eth0", "1::", "1:2:3:4:5:6:7:8", "::1.2.3.4", "1:2:3:4:5:6:1.2.3.4",
    ])
    func valid(_ text: String) {
        #expect(IPAddress(text) != nil, "\(text)")
    }

    @Test(arguments: [
        "fish", "", "0x41.0x41.0x41.0x41", "192.168.100.34.y", "74.125.239.1.", "01.2.3.4", "256.1.1.1", "1.2.3",
        "1.2.3.4.5", "1:2:3:4:5:6:7:8:9", ":::", "1::2::3", "12345::", "1:2:3:4:5:6:7", ":1::", "1::2:", "fe80::1%",
        "1.2.3.4:80", "[::1]", " 1.2.3.4", "::ffff:1.2.3", "1:2:3:4:5:6:7:1.2.3.4", String(repeating: "1", count: 100),
        "١.٢.٣.٤",
    ])
    func invalid(_ text: String) {
        #expect(IPAddress(text) == nil, "\(text)")
    }

    // RFC 5952 §4 examples and the IPv4-mapped unmapping.
    @Test(arguments: [
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("2001:DB8::1", "2001:db8::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
        ("0:0:0:0:0:0:0:0", "::"),
        ("0:0:0:0:0:0:0:1", "::1"),
        ("1:0:0:0:0:0:0:0", "1::"),
        ("::ffff:1.2.3.4", "1.2.3.4"),
        ("::FFFF:0102:0304", "1.2.3.4"),
        ("fe80::1%eth0", "fe80::1"),
        ("::1.2.3.4", "::102:304"),
    ])
    func canonical(_ input: String, _ expected: String) {
        #expect(IPAddress(input)?.description == expected)
    }

    @Test func networks() throws {
        let ten = try #require(IPNetwork("10.0.0.0/8"))
        #expect(ten.contains(IPAddress("10.255.1.2")!))
        #expect(!ten.contains(IPAddress("11.0.0.1")!))
        #expect(!ten.contains(IPAddress("::1")!))
        let ula = try #require(IPNetwork("fc00::/7"))
        #expect(ula.contains(IPAddress("fd12:3456::1")!))
        #expect(!ula.contains(IPAddress("fe80::1")!))
        #expect(IPNetwork("10.1.2.3/8")?.description == "10.0.0.0/8")
        #expect(IPNetwork("::ffff:10.0.0.0/104")?.description == "10.0.0.0/8")
        #expect(IPNetwork("0.0.0.0/0")?.contains(IPAddress("8.8.8.8")!) == true)
        #expect(IPNetwork("1.2.3.4")?.prefixLength == 32)
        for bad in ["10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/a", "::/129", "x/8", "10.0.0.0/", "::ffff:1.2.3.4/95"] {
            #expect(IPNetwork(bad) == nil, "\(bad)")
        }
    }
}
