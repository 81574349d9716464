// The README's quick start, compiled and run here so that it cannot rot.
import DefenderVapor
import Fluent
import FluentSQLiteDriver
import NIOCore
import Testing
import Vapor
import VaporTesting

// MARK: README quick start (keep in sync with README.md)

struct LoginForm: Content {
    var username: String
    var password: String
}

func configure(_ app: Application) async throws {
    // Every DEFENDER_* variable, with django-defender's defaults; a bad value throws and names it.
    app.defender.configuration = try .fromEnvironment()
    // DEFENDER_STORE=memory (the default); for redis add DefenderRedis and use `.automatic(RedisStoreFactory())`.
    app.defender.use(.automatic)

    app.post("login") { req async throws -> Response in
        // Defender decodes the form once, counts `form.username`, and hands the handler what it read.
        try await req.defender.watchLogin(LoginForm.self, username: \.username) { form in
            // Locked-out requests never get here: the password is not checked.
            guard try await checkPassword(username: form.username, password: form.password, on: req) else {
                return Response(status: .unauthorized)  // any non-redirect counts as a failure
            }
            return req.redirect(to: "/")  // a redirect counts as a success and clears the counters
        }
    }
}

/// A user of the app, with a bcrypt hash of the password (Fluent; the table is the app's own).
final class User: Model, @unchecked Sendable {
    static let schema = "users"
    @ID(key: .id) var id: UUID?
    @Field(key: "username") var username: String
    @Field(key: "password_hash") var passwordHash: String
    init() {}
}

/// The password check: the user's stored hash, verified off the event loop (`req.password.async`). An unknown
/// user is checked against a hash of no one's password, so that the answer takes as long and does not tell
/// which accounts exist.
func checkPassword(username: String?, password: String, on req: Request) async throws -> Bool {
    var user: User?
    if let username { user = try await User.query(on: req.db).filter(\.$username == username).first() }
    let verified = try await req.password.async.verify(password, created: user?.passwordHash ?? unknownUserHash)
    return verified && user != nil
}

/// A bcrypt hash of a password no user has, made once.
let unknownUserHash = try! Bcrypt.hash("a password no user has")
// MARK: End of the README quick start

/// The examples' users table with `alice`/`secret` (cost 4: a test need not be slow).
func prepareUsers(_ app: Application) async throws {
    app.databases.use(.sqlite(.memory), as: .sqlite)
    app.migrations.add(CreateUsers())
    try await app.autoMigrate()
    let alice = User()
    alice.username = "alice"
    alice.passwordHash = try Bcrypt.hash("secret", cost: 4)
    try await alice.create(on: app.db)
}

struct CreateUsers: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(User.schema).id().field("username", .string, .required).unique(on: "username")
            .field("password_hash", .string, .required).create()
    }

    func revert(on database: any Database) async throws { try await database.schema(User.schema).delete() }
}

@Suite struct ReadmeQuickStartTests {
    @Test func quickStartProtectsTheLogin() async throws {
        try await withApp(configure: { app in
            try await prepareUsers(app)
            try await configure(app)
        }) { (app) async throws in
            func login(_ password: String) async throws -> HTTPStatus {
                try await app.testing().sendRequest(
                    .POST, "/login", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: "username=alice&password=\(password)")
                ).status
            }
            #expect(try await login("secret") == .seeOther)
            for _ in 0..<3 { #expect(try await login("wrong") == .unauthorized) }
            #expect(try await login("wrong") == .forbidden)
            #expect(try await login("secret") == .forbidden)
        }
    }
}
