import DefenderCore
import Foundation
import HTTPTypes

/// How the admin's pages are written: headers, redirects, links, durations and times.
package enum AdminPage {
    /// `302 Found` (the contract's status for a visitor who must sign in).
    static func found(_ location: String) -> HTTPAnswer {
        var fields = HTTPFields()
        fields[.location] = location
        return HTTPAnswer(status: 302, fields: fields)
    }

    /// `303` back to the page, showing `notice`, signed with the session's CSRF token (see ``notice(_:)``).
    static func backToPage(_ request: AdminRequest, notice: String, csrfToken: String) -> HTTPAnswer {
        var fields = HTTPFields()
        let tag = KeyedDigest.tag(notice, key: csrfToken, purpose: noticePurpose)
        fields[.location] = request.base + "?" + URLEncodedForm.serialize([("notice", notice), ("notice_tag", tag)])
        return HTTPAnswer(status: 303, fields: fields)
    }

    /// The notice the page shows: the one in its query, only when the session's own form put it there. Anyone can
    /// link an administrator to the page with `?notice=` of their choosing ("your session expired, sign in at …"),
    /// shown in the page's trusted voice; a notice whose tag was not made with this session's CSRF token is dropped.
    static func notice(_ request: AdminRequest, csrfToken: String?) -> String? {
        guard let notice = request.query("notice"), let csrfToken, !csrfToken.isEmpty,
            AdminHandler.tokensMatch(request.query("notice_tag"), KeyedDigest.tag(notice, key: csrfToken, purpose: noticePurpose))
        else { return nil }
        return notice
    }

    private static let noticePurpose = "defender/admin-notice/v1"

    /// This page's URL with some query items replaced (and the notice dropped).
    static func link(_ request: AdminRequest, _ changes: [String: String]) -> String {
        let kept = request.queryItems.filter { changes[$0.name] == nil && $0.name != "notice" && $0.name != "notice_tag" }
        return request.base + "?" + URLEncodedForm.serialize(kept + changes.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    static func duration(_ seconds: Int) -> String {
        if seconds < 120 { return "\(seconds) s" }
        if seconds < 7200 { return "\(seconds / 60) min" }
        return "\(seconds / 3600) h \(seconds % 3600 / 60) min"
    }

    /// `2026-12-02 03:16:30` (UTC), with one immutable, `Sendable` format for every row.
    package static func timestamp(_ date: Date) -> String { date.formatted(timestampStyle) }

    static let timestampStyle = Date.ISO8601FormatStyle(dateSeparator: .dash, dateTimeSeparator: .space, timeSeparator: .colon, timeZone: .gmt)
        .year().month().day().time(includingFractionalSeconds: false)

    /// A small page of the admin's (a refusal), in the admin's style; `body` is markup, written by us.
    static func html(title: String, body: String, status: Int) -> HTTPAnswer {
        html("""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(HTMLEscaping.escape(title))</title>
            <style>\(stylesheet)</style></head>
            <body>\(body)</body></html>

            """, status: status)
    }

    /// A whole page, with the admin's security headers.
    static func html(_ html: String, status: Int = 200) -> HTTPAnswer {
        var fields = HTTPFields()
        fields[.contentType] = HTTPAnswer.html
        fields[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
        fields[HTTPField.Name("X-Frame-Options")!] = "DENY"
        return HTTPAnswer(status: status, fields: fields, body: Array(html.utf8))
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
