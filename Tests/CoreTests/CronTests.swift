import Foundation
import Testing
import TrellisCore

@Suite struct CronTests {
    func instant(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }
    func iso(_ date: Date?) -> String {
        guard let date else { return "nil" }
        return ISO8601DateFormatter().string(from: date)
    }
    func fires(_ cron: String, zone: String, after start: String, count: Int) throws -> [String] {
        let expression = try CronExpression(cron)
        let timeZone = TimeZone(identifier: zone)!
        var result: [String] = []
        var cursor = instant(start)
        for _ in 0..<count {
            guard let next = expression.nextFire(after: cursor, in: timeZone) else { break }
            result.append(iso(next))
            cursor = next
        }
        return result
    }

    @Test func simpleSchedules() throws {
        #expect(try fires("*/15 * * * *", zone: "UTC", after: "2026-01-01T00:07:00Z", count: 3)
                == ["2026-01-01T00:15:00Z", "2026-01-01T00:30:00Z", "2026-01-01T00:45:00Z"])
        #expect(try fires("0 9 * * mon-fri", zone: "UTC", after: "2026-11-20T10:00:00Z", count: 2)   // a Friday
                == ["2026-11-23T09:00:00Z", "2026-11-24T09:00:00Z"])
        #expect(try fires("@monthly", zone: "UTC", after: "2026-01-15T00:00:00Z", count: 1) == ["2026-02-01T00:00:00Z"])
        #expect(try fires("0 0 29 2 *", zone: "UTC", after: "2026-03-01T00:00:00Z", count: 1) == ["2028-02-29T00:00:00Z"])
    }

    @Test func timeZonesApply() throws {
        // 09:00 in Paris is 08:00 UTC in winter and 07:00 UTC in summer.
        #expect(try fires("0 9 * * *", zone: "Europe/Paris", after: "2026-01-10T12:00:00Z", count: 1) == ["2026-01-11T08:00:00Z"])
        #expect(try fires("0 9 * * *", zone: "Europe/Paris", after: "2026-07-10T12:00:00Z", count: 1) == ["2026-07-11T07:00:00Z"])
    }

    @Test func springForwardRunsTheSkippedTimeOnce() throws {
        // Europe/Paris jumps from 02:00 to 03:00 on 2026-03-29: 02:30 does not exist that day.
        let result = try fires("30 2 * * *", zone: "Europe/Paris", after: "2026-03-28T00:00:00Z", count: 3)
        #expect(result == ["2026-03-28T01:30:00Z",   // 02:30 CET
                           "2026-03-29T01:30:00Z",   // the first instant after the gap: 03:30 CEST
                           "2026-03-30T00:30:00Z"])  // 02:30 CEST
        // An hourly job fires once per real hour through the gap, never twice.
        let hourly = try fires("30 * * * *", zone: "Europe/Paris", after: "2026-03-29T00:00:00Z", count: 3)
        #expect(hourly == ["2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z", "2026-03-29T02:30:00Z"])
    }

    @Test func fallBackRunsTheRepeatedTimeOnce() throws {
        // America/New_York repeats 01:00–02:00 on 2026-11-01: 01:30 happens twice.
        let result = try fires("30 1 * * *", zone: "America/New_York", after: "2026-10-31T12:00:00Z", count: 2)
        #expect(result == ["2026-11-01T05:30:00Z",   // 01:30 EDT, the first occurrence
                           "2026-11-02T06:30:00Z"])  // 01:30 EST the next day
    }

    @Test func invalidExpressionsSayWhy() {
        #expect(throws: CronError.self) { try CronExpression("* * * *") }
        #expect(throws: CronError.self) { try CronExpression("0 24 * * *") }
        #expect(throws: CronError.self) { try CronExpression("0 0 * foo *") }
        #expect(throws: CronError.self) { try CronExpression("5-1 * * * *") }
        #expect(throws: CronError.self) { try CronExpression("*/0 * * * *") }
    }
}
