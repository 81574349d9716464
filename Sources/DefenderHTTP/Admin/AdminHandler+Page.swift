import DefenderCore
import Foundation
import HTTPTypes
import Mustache

extension AdminHandler {
    /// `GET {base}`: the page.
    func page(_ request: AdminRequest, admin: String, csrf: String?) async throws -> HTTPAnswer {
        var sections: [AdminPageModel.BlockSection] = []
        for kind in DefenderKey.Kind.allCases {
            let cursorName = "\(Self.plural(kind))_after"
            let page = try await operations.engine.store.blocks(of: kind, after: request.query(cursorName), limit: blockPageSize)
            let rows = page.blocks.map { block in
                AdminPageModel.BlockRow(
                    key: block.key.value, keyKind: kind.rawValue, timeLeft: block.secondsLeft.map(AdminPage.duration) ?? "until unblocked",
                    kind: block.isManual ? "manual" : "automatic", lockouts: block.lockoutCount)
            }
            sections.append(AdminPageModel.BlockSection(
                title: Self.title(kind), column: Self.column(kind), rows: rows, hasRows: !rows.isEmpty,
                more: page.nextCursor.map { AdminPage.link(request, [cursorName: $0]) }))
        }
        let valid = request.query("valid") ?? ""
        let rows = try await operations.history?.attempts(matching: filter(request, limit: pageSize + 1)) ?? []
        let attempts = rows.prefix(pageSize).map { stored in
            let row = stored.record
            return AdminPageModel.Attempt(
                time: AdminPage.timestamp(row.attemptTime), username: row.username ?? "–", ip: row.ipAddress.isEmpty ? "–" : row.ipAddress,
                path: row.pathInfo, result: row.loginValid ? "✓ success" : "✗ failure", userAgent: row.userAgent)
        }
        let notice = AdminPage.notice(request, csrfToken: csrf)
        let model = AdminPageModel(
            base: request.base, csrf: csrf ?? "", admin: admin, notice: notice,
            stylesheet: AdminPage.stylesheet, blockSections: sections, rangeLists: try await rangeListModels(),
            filterIP: request.query("ip") ?? "", filterUsername: request.query("username") ?? "",
            validOptions: [("", "all"), ("false", "failed"), ("true", "succeeded")].map {
                AdminPageModel.Option(value: $0.0, label: $0.1, selected: valid == $0.0)
            },
            attempts: Array(attempts), hasAttempts: !attempts.isEmpty,
            older: rows.count > pageSize ? rows.prefix(pageSize).last.map { AdminPage.link(request, ["before": String($0.id)]) } : nil)
        var answer = AdminPage.html(templates.admin.render(model))
        answer.fields[.cacheControl] = "no-store"
        return answer
    }

    static func plural(_ kind: DefenderKey.Kind) -> String {
        switch kind {
        case .ip: "ips"
        case .username: "usernames"
        case .pair: "pairs"
        case .device: "devices"
        }
    }

    static func title(_ kind: DefenderKey.Kind) -> String {
        switch kind {
        case .ip: "IPs"
        case .username: "usernames"
        case .pair: "shared-address pairs (a username locked at one shared address, which stays open to the others)"
        case .device: "devices (a trusted browser's device cookie, locked after failures through it; its owner's other browsers are not)"
        }
    }

    static func column(_ kind: DefenderKey.Kind) -> String {
        switch kind {
        case .ip: "IP"
        case .username: "Username"
        case .pair: "Address|username"
        case .device: "Device"
        }
    }

    /// The stored lists' parts of the page: the deny list and the shared ranges, each when the app keeps it.
    func rangeListModels() async throws -> [AdminPageModel.RangeList] {
        var lists: [AdminPageModel.RangeList] = []
        for (list, stored) in [(DefenderOperations.RangeList.denylist, operations.denylist), (.sharedRanges, operations.sharedRanges)] {
            guard let stored else { continue }
            let entries = try await stored.entries().map {
                AdminPageModel.DenylistRow(network: $0.network.description, note: $0.note, added: AdminPage.timestamp($0.createdAt))
            }
            lists.append(list == .denylist
                ? AdminPageModel.RangeList(
                    title: "Deny list", about: "Refused before any password check, kept across restarts.", path: "denylist", action: "Deny",
                    entries: entries, hasEntries: !entries.isEmpty)
                : AdminPageModel.RangeList(
                    title: "Shared ranges",
                    about: "Addresses many users share (an office proxy, a campus): counted by address and username, so an attacker there locks only what he attacks. Beside DEFENDER_SHARED_IP_RANGES and its file.",
                    path: "shared-ranges", action: "Share", entries: entries, hasEntries: !entries.isEmpty))
        }
        return lists
    }

    // MARK: Forms

    /// `POST {base}/block`, `/unblock`, `/denylist/add`, `/denylist/remove`: the change, then `303` back to the
    /// page with a notice. The caller has checked that an administrator asks.
    func formAction(_ request: AdminRequest, csrf: String?) async throws -> HTTPAnswer {
        let form = URLEncodedForm.mediaType(request.contentType) == "application/x-www-form-urlencoded"
            ? URLEncodedForm.parse(String(decoding: request.body, as: UTF8.self)) : []
        func field(_ name: String) -> String? { form.first { $0.name == name }?.value }
        // Every form, whoever sent it, carries the session's token: browsers also replay Basic credentials.
        guard let token = csrf, Self.tokensMatch(field("csrf"), token) else {
            return AdminPage.html(
                title: "Refused",
                body: "<h1>Refused</h1><p>The form's CSRF token is missing or wrong. <a href=\"\(HTMLEscaping.escape(request.base))\">Reload the page</a> and try again.</p>",
                status: 403)
        }
        let value = field("value") ?? ""
        let notice: String
        do {
            switch request.route {
            case .blockForm, .unblockForm:
                guard let key = try operations.key(kind: field("kind"), value: value) else {
                    throw DefenderError(.invalidKey, "the kind must be ip, username or pair")
                }
                if request.route == .blockForm {
                    try await operations.block(key, seconds: field("seconds").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) })
                    notice = "Blocked \(key.kind.rawValue) \(key.value)."
                } else {
                    _ = try await operations.unblock(key)
                    notice = "Unblocked \(key.kind.rawValue) \(key.value)."
                }
            case .denylistAddForm, .sharedRangesAddForm, .denylistRemoveForm, .sharedRangesRemoveForm:
                let list = request.route.rangeList ?? .denylist
                if request.route.addsToRangeList {
                    let (network, added) = try await operations.add(value, note: field("note") ?? "", to: list)
                    notice = list.added(network, wasNew: added)
                } else {
                    notice = list.removed(value, wasThere: try await operations.remove(value, from: list))
                }
            default:
                return .problem(status: 404, detail: "No such admin form.")
            }
        } catch let error as DefenderError {
            notice = "Nothing changed: \(error.message)."
        }
        return AdminPage.backToPage(request, notice: notice, csrfToken: token)
    }
}
