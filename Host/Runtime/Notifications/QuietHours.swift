import Foundation

/// A daily window, in a recipient's time zone, when only critical messages
/// are sent; the rest wait until it ends. `22:00–07:00` spans midnight.
public struct QuietHours: Sendable, Equatable {
    /// Minutes after local midnight.
    public var start: Int
    public var end: Int
    public var timeZone: TimeZone

    public init(start: Int, end: Int, timeZone: TimeZone) {
        self.start = start
        self.end = end
        self.timeZone = timeZone
    }

    /// Parses `HH:MM`.
    public static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let hours = Int(parts[0]), let minutes = Int(parts[1]),
              (0..<24).contains(hours), (0..<60).contains(minutes), parts[1].count == 2 else { return nil }
        return hours * 60 + minutes
    }

    /// When a non-critical message queued at `time` (Unix seconds) may go:
    /// `time` itself outside the window, else the window's local end. The
    /// end is found on the calendar, so a DST change inside the window moves
    /// it with the wall clock.
    public func release(at time: Double) -> Double {
        guard start != end else { return time }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let date = Date(timeIntervalSince1970: time)
        let local = calendar.dateComponents([.hour, .minute], from: date)
        let minute = (local.hour ?? 0) * 60 + (local.minute ?? 0)
        let inside = start < end ? (minute >= start && minute < end) : (minute >= start || minute < end)
        guard inside else { return time }
        // The end is today when it is still ahead, else tomorrow.
        let day = calendar.startOfDay(for: date)
        let endDay = minute < end ? day : calendar.date(byAdding: .day, value: 1, to: day) ?? day
        let release = calendar.date(bySettingHour: end / 60, minute: end % 60, second: 0, of: endDay) ?? date
        return max(time, release.timeIntervalSince1970)
    }
}

/// A token bucket: `rate` tokens a second up to `burst`. A message that finds
/// it empty is not dropped; it learns when the next token comes.
struct TokenBucket: Sendable {
    let rate: Double
    let burst: Double
    private var tokens: Double
    private var updated: Double

    init(rate: Double, burst: Double, now: Double) {
        self.rate = rate
        self.burst = max(1, burst)
        tokens = self.burst
        updated = now
    }

    /// Takes a token and returns nil, or returns when one will be there.
    mutating func take(at now: Double) -> Double? {
        tokens = min(burst, tokens + max(0, now - updated) * rate)
        updated = max(updated, now)
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        return now + (1 - tokens) / rate
    }
}
