import DefenderCore

/// Who is asking for the admin, as the app decides it (an authenticated administrator only).
public enum DefenderAdminAccess: Sendable, Equatable {
    /// An administrator signed in with a session cookie: forms and JSON POSTs must carry the CSRF token.
    case sessionAdmin(String)
    /// An administrator who sent credentials with the request (HTTP Basic): JSON POSTs need no token.
    case credentialAdmin(String)
    /// Signed in, but not an administrator: `403`.
    case forbidden
    /// Not signed in: the page redirects to the login page; the API answers `401`.
    case anonymous
    /// Administrator credentials sent with the request (HTTP Basic) from a locked address or for a locked
    /// username, or whose failure just crossed a limit: the lockout response, as problem+json (`403`, or `429`
    /// with `DefenderConfiguration/lockoutStatus`, with `Retry-After`), as on any other Basic-protected route.
    case locked(Lockout)
}

/// The admin's routes, relative to where it is mounted: one table that every integration mounts as it is.
package enum AdminRoute: CaseIterable, Sendable {
    case page, unblockForm, blockForm, denylistAddForm, denylistRemoveForm, sharedRangesAddForm, sharedRangesRemoveForm
    case apiBlocks, apiUnblock, apiBlock, apiAttempts, apiDenylist, apiDenylistAdd, apiDenylistRemove
    case apiSharedRanges, apiSharedRangesAdd, apiSharedRangesRemove

    /// The path below the admin's base.
    package var path: [String] {
        switch self {
        case .page: []
        case .unblockForm: ["unblock"]
        case .blockForm: ["block"]
        case .denylistAddForm: ["denylist", "add"]
        case .denylistRemoveForm: ["denylist", "remove"]
        case .sharedRangesAddForm: ["shared-ranges", "add"]
        case .sharedRangesRemoveForm: ["shared-ranges", "remove"]
        case .apiBlocks: ["api", "blocks"]
        case .apiUnblock: ["api", "unblock"]
        case .apiBlock: ["api", "block"]
        case .apiAttempts: ["api", "attempts"]
        case .apiDenylist, .apiDenylistAdd: ["api", "denylist"]
        case .apiDenylistRemove: ["api", "denylist", "remove"]
        case .apiSharedRanges, .apiSharedRangesAdd: ["api", "shared-ranges"]
        case .apiSharedRangesRemove: ["api", "shared-ranges", "remove"]
        }
    }

    /// `POST` (a change) or `GET` (a read).
    package var isPost: Bool {
        switch self {
        case .page, .apiBlocks, .apiAttempts, .apiDenylist, .apiSharedRanges: false
        default: true
        }
    }

    /// The stored range list a list route changes or reads; `nil` for the others.
    var rangeList: DefenderOperations.RangeList? {
        switch self {
        case .denylistAddForm, .denylistRemoveForm, .apiDenylist, .apiDenylistAdd, .apiDenylistRemove: .denylist
        case .sharedRangesAddForm, .sharedRangesRemoveForm, .apiSharedRanges, .apiSharedRangesAdd, .apiSharedRangesRemove: .sharedRanges
        default: nil
        }
    }

    /// Whether it adds to a stored range list (else, on a list route, it removes or reads).
    var addsToRangeList: Bool { [.denylistAddForm, .sharedRangesAddForm, .apiDenylistAdd, .apiSharedRangesAdd].contains(self) }

    /// Whether it belongs to the JSON API (problem answers, `401` for anonymous callers) or to the page and its forms.
    var isAPI: Bool { path.first == "api" }
}

/// One admin request as the integration read it.
package struct AdminRequest: Sendable {
    package var route: AdminRoute
    /// Where the admin is mounted, such as `/admin/defender`: every link and form of the page starts here.
    package var base: String
    /// The URL's query, still percent-encoded (`nil` when there is none).
    package let query: String?
    /// The `Content-Type` field, when there is exactly one.
    package var contentType: String?
    /// The `X-CSRF-Token` field, when there is exactly one.
    package var csrfHeader: String?
    package var body: [UInt8]
    package var access: DefenderAdminAccess

    /// - Parameters:
    ///   - contentType: every `Content-Type` field value, in order.
    ///   - csrfHeader: every `X-CSRF-Token` field value, in order.
    ///
    /// A field sent twice counts as absent in every integration (one framework reads the first, another joins
    /// them with a comma): a token is valid only when it is the one token sent.
    package init(
        route: AdminRoute, base: String, query: String?, contentType: [String], csrfHeader: [String], body: [UInt8],
        access: DefenderAdminAccess
    ) {
        self.route = route
        self.base = base
        self.query = query
        self.contentType = contentType.count == 1 ? contentType[0] : nil
        self.csrfHeader = csrfHeader.count == 1 ? csrfHeader[0] : nil
        self.body = body
        self.access = access
        self.queryItems = URLEncodedForm.parse(query ?? "")
    }

    /// The base path from the path a request matched, given the route it matched (so that the admin works under
    /// any prefix, whatever the framework's group).
    /// Empty parts are dropped: a base such as `//admin` would make every form's action and every redirect
    /// protocol-relative — another host.
    package static func base(matched components: [String], route: AdminRoute) -> String {
        "/" + components.dropLast(route.path.count).filter { !$0.isEmpty }.joined(separator: "/")
    }

    /// The query's items, decoded once (the page reads a dozen of them).
    let queryItems: [(name: String, value: String)]

    /// The first value of a query item; `nil` when absent.
    func query(_ name: String) -> String? { queryItems.first { $0.name == name }?.value }

    /// Whether the body is declared `application/json`.
    var isJSON: Bool { URLEncodedForm.mediaType(contentType) == "application/json" }
}
