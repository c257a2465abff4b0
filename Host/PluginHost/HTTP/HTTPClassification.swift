import Foundation
import Synchronization
import TrellisCore

/// How an HTTP status reads to the recovery pipeline.
public enum HTTPClassification {
    /// nil for success, which is 2xx only. A redirect (3xx) is config: the
    /// client never follows one, so nothing was delivered and the address
    /// must change. 429, and 503 with a Retry-After, are rate-limited; 401
    /// and 403 are config (credentials); other 4xx are permanent; other 5xx,
    /// and anything else, are retryable.
    public static func errorClass(status: Int, retryAfterMilliseconds: UInt64?) -> ErrorClass? {
        switch status {
        case 200..<300: nil
        case 300..<400: .config
        case 429: .rateLimited
        case 503 where retryAfterMilliseconds != nil: .rateLimited
        case 401, 403: .config
        case 400..<500: .permanent
        default: .retryable
        }
    }

    /// A Retry-After value — delay-seconds or an HTTP-date — in milliseconds
    /// from `now` (Unix seconds); nil when it is neither.
    public static func retryAfter(_ value: String, now: Double = Date().timeIntervalSince1970) -> UInt64? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = UInt64(text) { return seconds * 1000 }
        guard let date = httpDate.withLock({ $0.date(from: text) }) else { return nil }
        return UInt64(max(0, (date.timeIntervalSince1970 - now) * 1000))
    }

    private static let httpDate: Mutex<DateFormatter> = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return Mutex(formatter)
    }()
}
