import Foundation

/// A five-field cron expression (`minute hour day-of-month month day-of-week`)
/// or a macro (`@hourly`, `@daily`, `@midnight`, `@weekly`, `@monthly`,
/// `@yearly`, `@annually`). Fields take `*`, numbers, ranges `a-b`, steps
/// `*/n` and `a-b/n`, lists `a,b`, and names for months and weekdays.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    public let description: String
    let minutes: Set<Int>
    let hours: Set<Int>
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    let daysOfWeek: Set<Int>   // 0 = Sunday
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool

    static let macros = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]
    static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    public init(_ text: String) throws(CronError) {
        description = text
        let expanded = Self.macros[text.lowercased()] ?? text
        let fields = expanded.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count == 5 else {
            throw CronError(message: "'\(text)' has \(fields.count) fields; cron needs 5 (minute hour day month weekday) or a macro such as @hourly")
        }
        minutes = try Self.field(fields[0], name: "minute", range: 0...59)
        hours = try Self.field(fields[1], name: "hour", range: 0...23)
        daysOfMonth = try Self.field(fields[2], name: "day of month", range: 1...31)
        months = try Self.field(fields[3], name: "month", range: 1...12, names: Self.monthNames, nameBase: 1)
        var weekdays = try Self.field(fields[4], name: "day of week", range: 0...7, names: Self.dayNames, nameBase: 0)
        if weekdays.remove(7) != nil { weekdays.insert(0) }
        daysOfWeek = weekdays
        dayOfMonthRestricted = !fields[2].hasPrefix("*")
        dayOfWeekRestricted = !fields[4].hasPrefix("*")
    }

    private static func field(_ text: String, name: String, range: ClosedRange<Int>, names: [String] = [],
                              nameBase: Int = 0) throws(CronError) -> Set<Int> {
        var values = Set<Int>()
        func number(_ token: String) throws(CronError) -> Int {
            if let value = Int(token) {
                guard range.contains(value) else {
                    throw CronError(message: "\(name) \(value) is out of range \(range.lowerBound)-\(range.upperBound)")
                }
                return value
            }
            if let index = names.firstIndex(of: token.lowercased()) { return index + nameBase }
            throw CronError(message: "'\(token)' is not a valid \(name)")
        }
        for part in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            let pieces = part.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard let first = pieces.first, !first.isEmpty else {
                throw CronError(message: "'\(part)' is not a valid \(name) (an empty part)")
            }
            var step = 1
            if pieces.count == 2 {
                guard let value = Int(pieces[1]), value > 0 else { throw CronError(message: "'\(part)' has an invalid step") }
                step = value
            }
            let base = pieces[0]
            var lower = range.lowerBound, upper = range.upperBound
            if base != "*" {
                let bounds = base.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                guard !bounds[0].isEmpty, bounds.count == 1 || !bounds[1].isEmpty else {
                    throw CronError(message: "'\(part)' is not a valid range in the \(name) field")
                }
                lower = try number(bounds[0])
                upper = bounds.count == 2 ? try number(bounds[1]) : (pieces.count == 2 ? range.upperBound : lower)
                guard lower <= upper else { throw CronError(message: "'\(part)' is an empty range in the \(name) field") }
            }
            values.formUnion(stride(from: lower, through: upper, by: step))
        }
        guard !values.isEmpty else { throw CronError(message: "the \(name) field is empty") }
        return values
    }

    private func matchesDay(month: Int, day: Int, weekday: Int) -> Bool {
        guard months.contains(month) else { return false }
        // Vixie cron: when both day fields are restricted, either may match.
        switch (dayOfMonthRestricted, dayOfWeekRestricted) {
        case (true, true): return daysOfMonth.contains(day) || daysOfWeek.contains(weekday)
        case (true, false): return daysOfMonth.contains(day)
        case (false, true): return daysOfWeek.contains(weekday)
        case (false, false): return true
        }
    }

    /// The first fire time strictly after `date`, in `timeZone`. Across DST
    /// changes: a wall-clock time skipped by spring-forward fires at the first
    /// instant after the gap; a time repeated by fall-back fires once, at its
    /// first occurrence.
    public func nextFire(after date: Date, in timeZone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let sortedHours = hours.sorted(), sortedMinutes = minutes.sorted()
        guard var day = calendar.date(from: calendar.dateComponents([.year, .month, .day], from: date)) else { return nil }
        for _ in 0..<(366 * 5) {
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            if matchesDay(month: parts.month!, day: parts.day!, weekday: parts.weekday! - 1) {
                for hour in sortedHours {
                    for minute in sortedMinutes {
                        var wanted = DateComponents()
                        wanted.year = parts.year; wanted.month = parts.month; wanted.day = parts.day
                        wanted.hour = hour; wanted.minute = minute
                        guard let candidate = calendar.date(from: wanted) else { continue }
                        // In a spring-forward gap Foundation moves the time past the gap;
                        // a moved time must still fall on this day to count.
                        if candidate > date, calendar.isDate(candidate, inSameDayAs: day) { return candidate }
                    }
                }
            }
            guard let next = calendar.date(byAdding: .day, value: 1, to: day) else { return nil }
            day = next
        }
        return nil
    }
}

public struct CronError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
