import DefenderHTTP
import DefenderVapor
import Fluent
import Foundation
import Vapor

extension DefenderAdmin {
    // MARK: Helpers

    static let csrfKey = "_defender_csrf"

    /// The session's token; a new one is made for the page (`create`), never for a POST.
    static func csrfToken(_ req: Request, create: Bool) -> String? {
        if let token = req.session.data[csrfKey] { return token }
        guard create else { return nil }
        let token = [UInt8].random(count: 32).hexEncoded
        req.session.data[csrfKey] = token
        return token
    }

    /// Compares in time independent of where they differ.
    static func tokensMatch(_ given: String?, _ expected: String?) -> Bool {
        guard let given, let expected, !expected.isEmpty else { return false }
        let a = Array(given.utf8)
        let b = Array(expected.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    /// `302 Found` (the contract's status; Vapor's `redirect(to:)` answers `303`).
    static func found(_ location: String) -> Response {
        Response(status: .found, headers: ["Location": location])
    }

    static func nonEmpty(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// This page's URL with some query items replaced.
    static func link(_ req: Request, _ changes: [String: String]) -> String {
        var components = URLComponents(string: req.url.string) ?? URLComponents()
        var items = (components.queryItems ?? []).filter { changes[$0.name] == nil && $0.name != "notice" }
        items += changes.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        components.queryItems = items
        components.path = base(req)
        return components.string ?? base(req)
    }

    static func duration(_ seconds: Int) -> String {
        if seconds < 120 { return "\(seconds) s" }
        if seconds < 7200 { return "\(seconds / 60) min" }
        return "\(seconds / 3600) h \(seconds % 3600 / 60) min"
    }

    /// `2026-12-02 03:16:30` (UTC), with one immutable, `Sendable` format for every row.
    static func timestamp(_ date: Date) -> String { date.formatted(timestampStyle) }

    static let timestampStyle = Date.ISO8601FormatStyle(dateSeparator: .dash, dateTimeSeparator: .space, timeSeparator: .colon, timeZone: .gmt)
        .year().month().day().time(includingFractionalSeconds: false)

    /// A small page of the admin's (a refusal), in the admin's style.
    static func htmlPage(title: String, body: String, status: HTTPResponseStatus = .ok) -> Response {
        htmlPage(html: """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(HTMLEscaping.escape(title))</title>
            <style>\(stylesheet)</style></head>
            <body>\(body)</body></html>

            """, status: status)
    }

    /// A whole page, with the admin's security headers.
    static func htmlPage(html: String, status: HTTPResponseStatus = .ok) -> Response {
        var headers = HTTPHeaders()
        headers.contentType = .html
        headers.add(name: "Content-Security-Policy", value: "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
        headers.add(name: "X-Frame-Options", value: "DENY")
        return Response(status: status, headers: headers, body: .init(string: html))
    }

    static let stylesheet = """
        body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1b1f24}
        h1{margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
        table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eaeef2}
        th{background:#f6f8fa}td{white-space:nowrap}td.ua{white-space:nowrap}code{font-size:.9em}.notice{background:#dafbe1;padding:.5rem;border-radius:4px}
        .who,.empty{color:#57606a}.ua{color:#57606a;font-size:.85em;max-width:18rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
        form.inline{display:flex;gap:.5rem;flex-wrap:wrap}input,select,button{font:inherit;padding:.2rem .4rem}
        button{cursor:pointer}td form{margin:0}
        """
}
