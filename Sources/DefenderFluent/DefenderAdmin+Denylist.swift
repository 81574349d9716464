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

    /// The deny-list part of the admin page; `nil` when the app keeps no stored deny list.
    func denylistModel(_ req: Request) async throws -> AdminPageModel.Denylist? {
        guard let list = req.application.defender.fluentDenylist else { return nil }
        let entries = try await list.entries().map {
            AdminPageModel.DenylistRow(network: $0.network, note: $0.note, added: Self.timestamp($0.createdAt))
        }
        return AdminPageModel.Denylist(entries: entries, hasEntries: !entries.isEmpty)
    }
}
