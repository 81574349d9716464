import DefenderCore
import DefenderHTTP
import Testing

/// Where a login's username is read, one rule for every integration: the route's source, else the app's; nothing
/// for `ipOnly` from either. Every pair of route and app source, with a renamed form field.
@Suite struct UsernameReadingTests {
    static let routes: [UsernameSource?] = [nil, .formField, .jsonField, .pathParameter("name"), .ipOnly]
    static let apps: [UsernameSource] = [.formField, .jsonField, .pathParameter("user"), .ipOnly]

    @Test(arguments: routes, apps)
    func theRoutesSourceWinsAndIPOnlyReadsNothing(route: UsernameSource?, app: UsernameSource) {
        var configuration = DefenderConfiguration()
        configuration.usernameSource = app
        configuration.usernameFormField = "email"
        let source = route ?? app
        let expected: UsernameReading =
            source == .ipOnly ? .none : source.parameter.map { .pathParameter($0) } ?? .bodyField("email")
        #expect(UsernameReading(route: route, configuration: configuration) == expected)
        // The report of a login without a username names the source in force, and none for `ipOnly`.
        #expect(UsernameReading.expected(route: route, configuration: configuration) == (source == .ipOnly ? nil : source.description))
    }
}
