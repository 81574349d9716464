import DefenderCore
import DefenderHTTP
import NIOCore
import Testing

/// The cheap readers on the login path: the peer address from socket bytes, the JSON media-type check.
@Suite struct RequestParsingTests {
    @Test func peerAddressFromSocketBytes() throws {
        for (text, expected) in [
            ("203.0.113.7", "203.0.113.7"), ("2001:db8::1", "2001:db8::1"), ("::ffff:198.51.100.2", "198.51.100.2"), ("::1", "::1"),
            ("0.0.0.0", "0.0.0.0"), ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
        ] {
            let socket = try SocketAddress(ipAddress: text, port: 443)
            #expect(IPAddress(socketAddress: socket) == IPAddress(text), "\(text)")
            #expect(IPAddress(socketAddress: socket)?.description == expected, "\(text)")
        }
        #expect(IPAddress(socketAddress: try SocketAddress(unixDomainSocketPath: "/tmp/x.sock")) == nil)
    }

    @Test func jsonMediaTypes() {
        for yes in ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "application/problem+json", "application/vnd.api+JSON ;x=1", "text/json\t"] {
            #expect(ClientPreference.isJSON(yes), "\(yes)")
        }
        for no in ["application/x-www-form-urlencoded", "text/plain", "", "json", "application/jsonp", "application/json-seq", "multipart/form-data; boundary=json"] {
            #expect(!ClientPreference.isJSON(no), "\(no)")
        }
    }

    @Test func acceptScan() {
        #expect(ClientPreference.offset(of: "json", in: "application/JSON") == 12)
        #expect(ClientPreference.offset(of: "text/html", in: "application/json,Text/HTML;q=0.9") == 17)
        #expect(ClientPreference.offset(of: "json", in: "text/html") == nil)
        #expect(ClientPreference.offset(of: "json", in: "") == nil)
        #expect(ClientPreference.offset(of: "json", in: "jso") == nil)
        #expect(ClientPreference.offset(of: "json", in: "json") == 0)
        #expect(ClientPreference.offset(of: "json", in: "é/json") == 3)  // bytes, not characters
    }
}
