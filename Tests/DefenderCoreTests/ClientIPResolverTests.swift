import DefenderCore
import DefenderTesting
import Testing

@Suite struct ClientIPResolverTests {
    func resolver(proxy: Bool = true, header: String = "HTTP_X_FORWARDED_FOR", trusted: [String]? = nil) -> ClientIPResolver {
        var config = DefenderConfiguration()
        config.behindReverseProxy = proxy
        config.reverseProxyHeader = header
        if let trusted { config.trustedProxies = trusted.map { IPNetwork($0)! } }
        return ClientIPResolver(configuration: config)
    }

    func resolve(_ resolver: ClientIPResolver, peer: String?, _ headers: [String: [String]] = [:]) throws -> String {
        try resolver.resolve(peer: peer.flatMap { IPAddress($0) }) { name in
            headers.first { $0.key.lowercased() == name.lowercased() }?.value ?? []
        }.key
    }

    // Ported: test_get_ip (#20) and test_get_ip_address_from_request (#31): the peer is the client.
    @Test func peerByDefault() throws {
        let plain = resolver(proxy: false)
        #expect(try resolve(plain, peer: "1.2.3.4", ["X-Forwarded-For": ["9.9.9.9"]]) == "1.2.3.4")
        #expect(try resolve(plain, peer: nil) == "127.0.0.1")  // Unix socket / in-process: local
    }

    // Ported: test_get_ip_reverse_proxy (#19).
    @Test func behindTrustedProxy() throws {
        let proxy = resolver()
        #expect(try resolve(proxy, peer: "127.0.0.1", ["X-Forwarded-For": ["192.168.24.24"]]) == "192.168.24.24")
        #expect(try resolve(proxy, peer: "24.24.24.24") == "24.24.24.24")
        #expect(try resolve(proxy, peer: "10.0.0.1") == "10.0.0.1")
        // Rightmost untrusted wins; the client-written left part is ignored.
        #expect(try resolve(proxy, peer: "10.0.0.1", ["X-Forwarded-For": ["6.6.6.6, 5.5.5.5, 10.0.0.2"]]) == "5.5.5.5")
        // Several header lines are one list, in order.
        #expect(try resolve(proxy, peer: "10.0.0.1", ["X-Forwarded-For": ["6.6.6.6", "5.5.5.5"]]) == "5.5.5.5")
        // All trusted: the leftmost.
        #expect(try resolve(proxy, peer: "10.0.0.1", ["X-Forwarded-For": ["192.168.1.5, 10.0.0.3"]]) == "192.168.1.5")
    }

    /// Whatever a client writes to the left of what its proxy appends — separators glued to combining or
    /// prepended marks, quotes, brackets, more entries — the resolver answers the address the proxy appended, or
    /// refuses the header as malformed: never another address (seeded, 5,000 cases each for `X-Forwarded-For` and
    /// `Forwarded`).
    @Test func clientTextNeverChoosesTheAddress() throws {
        let fragments = [
            ",", ";", "=", " ", "\"", "[", "]", ":", "for=", "6.6.6.6", "2001:db8::6", "\u{301}", "\u{600}", "\u{FE0F}", "unknown", "_hidden",
        ]
        var random = SplitMix64(seed: 0xF0E1)
        let forwarded = resolver()
        let standard = resolver(header: "Forwarded")
        for _ in 0..<5_000 {
            let written = (0..<Int.random(in: 0...8, using: &random)).map { _ in fragments.randomElement(using: &random)! }.joined()
            for (resolver, header, appended) in [
                (forwarded, "X-Forwarded-For", written + ", 203.0.113.9"), (standard, "Forwarded", written + ", for=203.0.113.9"),
            ] {
                do {
                    let address = try resolve(resolver, peer: "10.0.0.1", [header: [appended]])
                    #expect(address == "203.0.113.9", "\(header): \(appended.debugDescription) resolved to \(address)")
                } catch {
                    // Malformed: answered 400, which counts nothing and lets nobody in.
                }
            }
        }
    }

    @Test func untrustedPeerHeaderIsIgnored() throws {
        let proxy = resolver()
        #expect(try resolve(proxy, peer: "8.8.4.4", ["X-Forwarded-For": ["1.1.1.1"]]) == "8.8.4.4")
        let onlyTen = resolver(trusted: ["10.0.0.0/8"])
        #expect(try resolve(onlyTen, peer: "127.0.0.1", ["X-Forwarded-For": ["1.1.1.1"]]) == "127.0.0.1")
    }

    // Ported: test_get_ip_reverse_proxy_custom_header (#32), read right to left here.
    @Test func customHeader() throws {
        let proxy = resolver(header: "HTTP_X_PROXIED")
        #expect(try resolve(proxy, peer: "127.0.0.1", ["X-Proxied": ["1.2.3.4"]]) == "1.2.3.4")
        #expect(try resolve(proxy, peer: "127.0.0.1", ["X-Proxied": ["1.2.3.4, 5.6.7.8, 127.0.0.1"]]) == "5.6.7.8")
        #expect(try resolve(proxy, peer: "127.0.0.1", ["X-Forwarded-For": ["1.2.3.4"]]) == "127.0.0.1")
        #expect(ClientIPResolver.headerFormat(forSetting: "X-Real-IP") == .addressList(name: "X-Real-IP"))
        #expect(ClientIPResolver.headerFormat(forSetting: "HTTP_FORWARDED") == .forwarded)
    }

    // Ported: test_ip_address_strip_port_number (#71) and test_get_ip_strips_port_number (#72).
    @Test(arguments: [
        ("192.168.1.1", "192.168.1.1"), ("192.168.1.1:8000", "192.168.1.1"), ("2001:db8::1", "2001:db8::1"),
        ("[2001:db8:85a3:0:0:8a2e:370:7334]:123456", "2001:db8:85a3::8a2e:370:7334"), ("1.2.3.4:123456", "1.2.3.4"),
        ("[2001:db8::1]", "2001:db8::1"), ("\"[fe80::1%eth0]:80\"", "fe80::1"),
    ])
    func stripsPortsAndBrackets(_ entry: String, _ expected: String) {
        #expect(ClientIPResolver.parseEntry(entry)?.description == expected)
    }

    @Test(arguments: ["foo", "unknown", "1.2.3.4:80abc", "[::1", "[::1]:", "[::1]x", "1.2.3.4:", "", "_hidden"])
    func refusesGarbageEntries(_ entry: String) throws {
        #expect(ClientIPResolver.parseEntry(entry) == nil)
        #expect(throws: ClientIPResolver.Failure.self) {
            try resolve(resolver(), peer: "127.0.0.1", ["X-Forwarded-For": ["\(entry), 10.0.0.1".replacingEmpty(entry)]])
        }
    }

    @Test func garbageLeftOfTheClientIsHarmless() throws {
        #expect(try resolve(resolver(), peer: "127.0.0.1", ["X-Forwarded-For": ["garbage, 7.7.7.7"]]) == "7.7.7.7")
    }

    @Test func tooManyHops() {
        let header = Array(repeating: "10.0.0.1", count: 40).joined(separator: ",")
        #expect(throws: ClientIPResolver.Failure.self) { try resolve(resolver(), peer: "127.0.0.1", ["X-Forwarded-For": [header]]) }
    }

    @Test func forwardedHeader() throws {
        let proxy = resolver(header: "Forwarded")
        #expect(try resolve(proxy, peer: "127.0.0.1", ["Forwarded": ["for=192.0.2.60;proto=http;by=203.0.113.43"]]) == "192.0.2.60")
        #expect(try resolve(proxy, peer: "127.0.0.1", ["Forwarded": ["for=\"[2001:db8:cafe::17]:4711\", for=10.0.0.5"]]) == "2001:db8:cafe::/64")
        #expect(try resolve(proxy, peer: "127.0.0.1", ["Forwarded": ["For=9.9.9.9, for=8.8.8.8"]]) == "8.8.8.8")
        #expect(throws: ClientIPResolver.Failure.self) { try resolve(proxy, peer: "127.0.0.1", ["Forwarded": ["for=unknown"]]) }
        #expect(throws: ClientIPResolver.Failure.self) { try resolve(proxy, peer: "127.0.0.1", ["Forwarded": ["proto=https"]]) }
    }

    @Test func ipv6FormsShareAKey() throws {
        let plain = resolver(proxy: false)
        let forms = ["2001:db8:1:2::1", "2001:DB8:1:2:0:0:0:1", "2001:0db8:0001:0002::0001", "2001:db8:1:2:ffff::9", "fe80::1%eth0"]
        let keys = try forms.map { try resolve(plain, peer: $0) }
        #expect(Set(keys.prefix(4)) == ["2001:db8:1:2::/64"])
        #expect(keys[4] == "fe80::/64")
        #expect(ClientAddress(address: IPAddress("2001:db8::1")!, ipv6PrefixLength: 128).key == "2001:db8::1")
        #expect(try resolve(plain, peer: "::ffff:10.1.2.3") == "10.1.2.3")
    }
}

extension String {
    /// `entry, 10.0.0.1`, or just an empty entry before the proxy when `entry` is empty.
    fileprivate func replacingEmpty(_ entry: String) -> String { entry.isEmpty ? " , 10.0.0.1" : self }
}
