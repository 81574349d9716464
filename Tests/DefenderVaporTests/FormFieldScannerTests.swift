import DefenderVapor
import NIOCore
import Testing

@Suite struct FormFieldScannerTests {
    func scan(_ body: String, _ field: String = "username") -> String? {
        FormFieldScanner.value(of: field, in: ByteBuffer(string: body))
    }

    @Test func findsTheField() {
        #expect(scan("username=alice&password=x") == "alice")
        #expect(scan("password=x&username=bob") == "bob")
        #expect(scan("username=a&username=b") == "a")  // the first wins
        #expect(scan("xusername=evil&username=good") == "good")
        #expect(scan("username=") == "")
        #expect(scan("username") == "")
        #expect(scan("password=x") == nil)
        #expect(scan("") == nil)
        #expect(scan("&&username=c&&") == "c")
    }

    @Test func decodes() {
        #expect(scan("username=J%C3%BCrgen+M") == "Jürgen M")
        #expect(scan("username=%41%4a") == "AJ")
        #expect(scan("username=100%25") == "100%")
        #expect(scan("username=bad%zzescape%") == "bad%zzescape%")  // kept as it is
        #expect(scan("username=%FF%FE") == "\u{FFFD}\u{FFFD}")  // not UTF-8: replacement characters
        #expect(scan("e%6Dail=x", "email") == nil)  // names are matched as sent
    }
}
