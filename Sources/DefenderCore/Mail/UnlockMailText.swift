import Foundation

/// The text of an unlock e-mail: what happened, since when, and the two ways back in.
struct UnlockMailText {
    let username: String
    let lockedAt: Date
    let lockRemaining: Duration?
    let link: String
    let linkExpires: Date

    func message(from: String, to: String) -> DefenderMailMessage {
        var lines = [
            "Hello,",
            "",
            "Your account \"\(username)\" was locked at \(Self.format(lockedAt)) after repeated failed sign-in attempts.",
        ]
        if let lockRemaining {
            lines.append("The lock ends by itself in \(Self.format(lockRemaining)).")
        }
        lines += [
            "",
            "If those attempts were yours, you can unlock your account now. If they were not, someone may be trying to",
            "guess your password: unlock your account, sign in, and change your password.",
            "",
            "To unlock your account, open this link and press the button on the page. The link works once, until",
            "\(Self.format(linkExpires)):",
            "",
            link,
            "",
            "This lifts the lock on your account only; the addresses the failed attempts came from stay blocked.",
            "If you did not expect this e-mail, you can ignore it.",
        ]
        return DefenderMailMessage(
            from: from, to: to, subject: "Your account was locked after failed sign-in attempts", text: lines.joined(separator: "\n") + "\n")
    }

    static func format(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        func two(_ value: Int?) -> String { String((value ?? 0) + 100).dropFirst().description }
        return "\(parts.year ?? 1970)-\(two(parts.month))-\(two(parts.day)) \(two(parts.hour)):\(two(parts.minute)) UTC"
    }

    static func format(_ duration: Duration) -> String {
        let seconds = max(1, Int(duration.components.seconds))
        switch seconds {
        case ..<120: return "\(seconds) seconds"
        case ..<7200: return "about \((seconds + 30) / 60) minutes"
        case ..<172_800: return "about \((seconds + 1800) / 3600) hours"
        default: return "about \((seconds + 43200) / 86400) days"
        }
    }
}
