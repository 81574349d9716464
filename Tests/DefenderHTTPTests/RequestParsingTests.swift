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

    /// A body is read only when its `Content-Type` names one type: not a wildcard, not a list (of which Vapor's
    /// reading takes the first and a suffix test the last), whatever the case of the type.
    @Test func singleMediaTypes() {
        let single: [(String, String)] = [
            ("application/json", "application/json"), ("APPLICATION/JSON", "application/json"),
            ("Application/X-WWW-Form-Urlencoded; Charset=UTF-8", "application/x-www-form-urlencoded"),
            (#"multipart/form-data; boundary="a,b""#, "multipart/form-data"), (#"text/plain; x="q\",z""#, "text/plain"),
        ]
        for (value, type) in single { #expect(URLEncodedForm.mediaType(value) == type, "\(value)") }
        for none in ["", " ", "*/*", "application/*", "application/json, text/html", "application/x-www-form-urlencoded,application/json",
                     #"multipart/form-data; boundary=x, application/json"#, "a/b; p=\"unterminated, c/d"] {
            #expect(URLEncodedForm.mediaType(none) == nil, "\(none)")
        }
        #expect(URLEncodedForm.mediaType(nil) == nil)
        // The lockout's format follows the same rule: a JSON body is one field naming one JSON type.
        #expect(ClientPreference.wantsJSON(accept: [], contentType: ["application/json"]))
        #expect(!ClientPreference.wantsJSON(accept: [], contentType: ["application/x-www-form-urlencoded", "application/json"]))
        #expect(!ClientPreference.wantsJSON(accept: [], contentType: ["application/x-www-form-urlencoded, application/json"]))
        #expect(!ClientPreference.wantsJSON(accept: [], contentType: []))
        #expect(ClientPreference.wantsJSON(accept: ["application/json"], contentType: ["text/html", "text/plain"]))
    }
}
