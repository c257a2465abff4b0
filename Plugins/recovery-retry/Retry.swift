import TrellisSDK

/// Retries failed attempts with a backoff (constant, linear or exponential),
/// a cap, and jitter (none, full, equal or decorrelated). Only the error
/// classes it is told to retry are retried (by default retryable and
/// rate_limited), and a rate-limited failure's retry-after always wins over
/// the computed delay. When it will not retry, it passes the failure on to
/// the strategies outside it (a fallback, say).
struct Retry: RecoveryPlugin {
    enum Backoff: String, Decodable, Sendable { case constant, linear, exponential }
    enum Jitter: String, Decodable, Sendable { case none, full, equal, decorrelated }

    struct Settings: Decodable, Sendable {
        var maxAttempts: Int?
        var backoff: Backoff?
        var delayMilliseconds: UInt64?
        var multiplier: Double?
        var maxDelayMilliseconds: UInt64?
        var jitter: Jitter?
        var retryOn: [String]?

        enum CodingKeys: String, CodingKey {
            case backoff, multiplier, jitter
            case maxAttempts = "max_attempts"
            case delayMilliseconds = "delay_ms"
            case maxDelayMilliseconds = "max_delay_ms"
            case retryOn = "retry_on"
        }

        /// The step's settings over the deployment's.
        func over(_ defaults: Settings) -> Settings {
            Settings(maxAttempts: maxAttempts ?? defaults.maxAttempts, backoff: backoff ?? defaults.backoff,
                     delayMilliseconds: delayMilliseconds ?? defaults.delayMilliseconds,
                     multiplier: multiplier ?? defaults.multiplier,
                     maxDelayMilliseconds: maxDelayMilliseconds ?? defaults.maxDelayMilliseconds,
                     jitter: jitter ?? defaults.jitter, retryOn: retryOn ?? defaults.retryOn)
        }
    }

    typealias Configuration = Settings
    typealias Policy = Settings

    static let id = "recovery.retry"
    static let version = "1.0.0"
    static let summary = "Retries with constant, linear or exponential backoff, a cap, and jitter."

    let defaults: Settings

    init(configuration: Settings, host: TrellisHost) throws {
        defaults = configuration
        try Self.check(configuration)
    }

    static func check(_ settings: Settings) throws {
        if let attempts = settings.maxAttempts, attempts < 1 {
            throw PluginError.config("max_attempts must be at least 1 (it counts the first attempt)")
        }
        if let multiplier = settings.multiplier, multiplier < 1 {
            throw PluginError.config("multiplier must be at least 1")
        }
    }

    func decide(_ failure: Failure, policy: Settings, context: CallContext) throws -> RecoveryDecision {
        let settings = policy.over(defaults)
        try Self.check(settings)
        let classes = settings.retryOn ?? ["retryable", "rate_limited"]
        guard classes.contains(failure.errorClass.description), failure.attempt < (settings.maxAttempts ?? 3) else {
            return .pass
        }
        // A failure that says when to come back (rate limited, an open circuit) is honoured.
        let delay = Self.delay(after: failure.attempt, settings)
        return .retry(afterMilliseconds: max(delay, failure.retryAfterMilliseconds))
    }

    /// The delay before the attempt after `attempt` (which failed), in ms.
    static func delay(after attempt: Int, _ settings: Settings,
                      random: (ClosedRange<Double>) -> Double = { Double.random(in: $0) }) -> UInt64 {
        let base = Double(settings.delayMilliseconds ?? 200)
        let cap = Double(settings.maxDelayMilliseconds ?? 30_000)
        let multiplier = settings.multiplier ?? 2
        func raw(_ n: Int) -> Double {
            switch settings.backoff ?? .exponential {
            case .constant: base
            case .linear: base * Double(n)
            case .exponential: base * pow(multiplier, Double(n - 1))
            }
        }
        let delay = min(cap, raw(attempt))
        let jittered: Double = switch settings.jitter ?? .none {
        case .none: delay
        case .full: random(0...delay)
        case .equal: delay / 2 + random(0...(delay / 2))
        case .decorrelated:
            // Between the base and three times the previous delay, capped.
            min(cap, random(base...max(base, 3 * min(cap, attempt > 1 ? raw(attempt - 1) : base))))
        }
        return UInt64(jittered.rounded())
    }
}

private func pow(_ base: Double, _ exponent: Double) -> Double {
    var result = 1.0
    var remaining = Int(exponent)
    while remaining > 0 {
        result *= base
        remaining -= 1
        if result > 1e12 { return result }
    }
    return result
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(Retry.self) }
