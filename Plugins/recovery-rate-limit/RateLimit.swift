import Synchronization
import TrellisSDK

/// Limits attempts per key (the plugin id, and an optional target): a token
/// bucket (`rate` per second, `burst` at once) or a concurrency limit (a
/// bulkhead of `limit` attempts in flight). An attempt over the limit waits
/// — on a timer, holding no thread — up to `max_wait_ms`, then fails as
/// rate_limited with a retry-after. Put a bulkhead innermost in a pipeline,
/// so no other strategy rejects an attempt it admitted.
final class RateLimit: RecoveryPlugin {
    struct Settings: Decodable, Sendable {
        var mode: String?
        var rate: Double?
        var burst: Double?
        var limit: Int?
        var maxWaitMilliseconds: UInt64?
        var target: String?

        enum CodingKeys: String, CodingKey {
            case mode, rate, burst, limit, target
            case maxWaitMilliseconds = "max_wait_ms"
        }
    }

    typealias Configuration = Settings
    typealias Policy = Settings

    static let id = "recovery.rate-limit"
    static let version = "1.0.0"
    static let summary = "Limits attempts per plugin with a token bucket or a concurrency limit."

    struct Bucket {
        var tokens: Double
        var updated: Int64
    }

    let defaults: Settings
    let host: TrellisHost
    private let buckets = Mutex<[String: Bucket]>([:])
    private let inFlight = Mutex<[String: Int]>([:])

    init(configuration: Settings, host: TrellisHost) throws {
        defaults = configuration
        self.host = host
        try Self.check(configuration)
    }

    static func check(_ settings: Settings) throws {
        if let mode = settings.mode, mode != "token_bucket" && mode != "concurrency" {
            throw PluginError.config("mode must be token_bucket or concurrency, not \(mode)")
        }
        if let rate = settings.rate, rate <= 0 { throw PluginError.config("rate must be above 0 per second") }
        if let limit = settings.limit, limit < 1 { throw PluginError.config("limit must be at least 1") }
    }

    private func merged(_ policy: Settings) -> Settings {
        Settings(mode: policy.mode ?? defaults.mode, rate: policy.rate ?? defaults.rate, burst: policy.burst ?? defaults.burst,
                 limit: policy.limit ?? defaults.limit, maxWaitMilliseconds: policy.maxWaitMilliseconds ?? defaults.maxWaitMilliseconds,
                 target: policy.target ?? defaults.target)
    }

    private func key(_ base: String, _ settings: Settings) -> String {
        settings.target.map { "\(base)#\($0)" } ?? base
    }

    func admit(_ attempt: Attempt, policy: Settings, context: CallContext) throws -> Admission {
        let settings = merged(policy)
        try Self.check(settings)
        let key = key(attempt.key, settings)
        let maxWait = settings.maxWaitMilliseconds ?? 1000
        if settings.mode == "concurrency" {
            let limit = settings.limit ?? 1
            let admitted = inFlight.withLock { counts in
                guard counts[key, default: 0] < limit else { return false }
                counts[key, default: 0] += 1
                return true
            }
            if admitted { return .proceed }
            guard attempt.elapsedMilliseconds < maxWait else {
                return .reject(.rateLimited, message: "\(key) already has \(limit) attempts in flight",
                               retryAfterMilliseconds: 100)
            }
            return .delay(milliseconds: 20)
        }
        let rate = settings.rate ?? 10
        let burst = max(1, settings.burst ?? 1)
        let now = host.nowMilliseconds
        let wait: UInt64? = buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            bucket.tokens = min(burst, bucket.tokens + Double(now - bucket.updated) / 1000 * rate)
            bucket.updated = now
            defer { buckets[key] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return UInt64(((1 - bucket.tokens) / rate * 1000).rounded(.up))
        }
        guard let wait else { return .proceed }
        guard attempt.elapsedMilliseconds + wait <= maxWait else {
            return .reject(.rateLimited, message: "\(key) is over its rate of \(rate) per second",
                           retryAfterMilliseconds: wait)
        }
        return .delay(milliseconds: wait)
    }

    func decide(_ failure: Failure, policy: Settings, context: CallContext) throws -> RecoveryDecision { .pass }

    func record(_ outcome: Outcome, policy: Settings) {
        let settings = merged(policy)
        guard settings.mode == "concurrency" else { return }
        let key = key(outcome.key, settings)
        inFlight.withLock { counts in counts[key] = max(0, counts[key, default: 0] - 1) }
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(RateLimit.self) }
