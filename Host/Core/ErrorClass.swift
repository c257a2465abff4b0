/// How a failure is classified across the plugin boundary. Recovery
/// strategies decide on the class, never on the message text.
public enum ErrorClass: String, Sendable, Hashable, Codable, CaseIterable {
    /// Transient: trying again may succeed.
    case retryable
    /// The remote side asked to slow down (with a retry-after).
    case rateLimited = "rate_limited"
    /// The same input will fail the same way.
    case permanent
    /// The configuration or the input is wrong.
    case config
    /// Cancelled, or the deadline passed.
    case cancelled
}
