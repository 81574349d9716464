import DefenderHTTP
import DefenderVapor
import Fluent
import Foundation
import Vapor

extension DefenderAdmin {
    // MARK: Stored deny list

    struct DenylistPage: Content {
        var entries: [DenylistRow]
    }

    struct DenylistRow: Content {
        var network: String
        var note: String
        var createdAt: Date

        init(_ entry: DenylistEntry) {
            network = entry.network
            note = entry.note
            createdAt = entry.createdAt
        }
    }

    struct DenylistBody: Content {
        var network: String
        var note: String?
    }

    /// The app's stored deny list; a `404` problem when it has none (`useFluentDenylist()` not called).
    func storedDenylist(_ req: Request) throws -> FluentDenylist {
        guard let list = req.application.defender.fluentDenylist else {
            throw Abort(.notFound, reason: "This app keeps no stored deny list (DefenderSupport.useFluentDenylist()).")
        }
        return list
    }

    func denylistAPIAction(_ req: Request, add: Bool) async throws -> Response {
        let list = try storedDenylist(req)
        guard let body = try? req.content.decode(DenylistBody.self) else {
            return ProblemDetails.response(.badRequest, "Send {\"network\": \"203.0.113.0/24\"}" + (add ? ", with an optional \"note\"." : "."))
        }
        do {
            if add {
                try await list.add(body.network, note: body.note ?? "")
            } else if try await !list.remove(body.network) {
                return ProblemDetails.response(.notFound, "\(body.network.prefix(64)) is not on the stored deny list.")
            }
        } catch let error as DefenderError {
            return ProblemDetails.response(.badRequest, error.message)
        }
        return Response(status: .noContent)
    }

    func denylistFormAction(_ req: Request, add: Bool) async throws -> Response {
        let form: AdminForm
        switch try await adminForm(req) {
        case .form(let checked): form = checked
        case .refused(let response): return response
        }
        let list = try storedDenylist(req)
        let notice: String
        do {
            let value = form.value ?? ""
            if add {
                let (network, added) = try await list.add(value, note: form.note ?? "")
                notice = added ? "Deny-listed \(network)." : "\(network) was already deny-listed."
            } else {
                notice = try await list.remove(value) ? "Removed \(value) from the deny list." : "\(value) was not on the deny list."
            }
        } catch let error as DefenderError {
            notice = "Nothing changed: \(error.message)."
        }
        return Self.backToPage(req, notice: notice)
    }

    func denylistSection(_ req: Request, token: String) async throws -> String {
        guard let list = req.application.defender.fluentDenylist else { return "" }
        let e = HTMLEscaping.escape
        var html = "<h2>Deny list</h2><p>Refused before any password check, kept across restarts.</p>"
        let entries = try await list.entries()
        if entries.isEmpty {
            html += "<p class=\"empty\">None.</p>"
        } else {
            html += "<table><thead><tr><th>Range</th><th>Note</th><th>Added (UTC)</th><th></th></tr></thead><tbody>"
            for entry in entries {
                html += "<tr><td><code>\(e(entry.network))</code></td><td>\(e(entry.note))</td><td>\(Self.timestamp(entry.createdAt))</td>"
                html += "<td><form method=\"post\" action=\"\(e(Self.base(req)))/denylist/remove\"><input type=\"hidden\" name=\"csrf\" value=\"\(e(token))\">"
                html += "<input type=\"hidden\" name=\"value\" value=\"\(e(entry.network))\"><button>Remove</button></form></td></tr>"
            }
            html += "</tbody></table>"
        }
        html += """
            <form method="post" action="\(e(Self.base(req)))/denylist/add" class="inline">
            <input type="hidden" name="csrf" value="\(e(token))">
            <input name="value" required placeholder="203.0.113.0/24 or 2001:db8::/32">
            <input name="note" placeholder="note (why)">
            <button>Deny</button>
            </form>
            """
        return html
    }
}
