import DefenderHTTP
import DefenderTesting
import Foundation
import Testing

/// The admin page's timestamps come from one immutable format style instead of a new formatter per row; they read
/// exactly as the formatter's did (differential, seeded dates from 1970 to 2100).
struct AdminTimestampTests {
    @Test func theFormatStyleWritesWhatTheFormatterWrote() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withSpaceBetweenDateAndTime]
        var random = SplitMix64(seed: 0x7135_7A3F)
        for _ in 0..<2_000 {
            let date = Date(timeIntervalSince1970: Double(UInt64.random(in: 0...4_102_444_800, using: &random)) + 0.25)
            #expect(AdminPage.timestamp(date) == formatter.string(from: date), "\(date.timeIntervalSince1970)")
        }
    }
}
