import TrellisSDK

/// Retries a failed attempt after a fixed delay, up to a number of attempts.
/// A rate-limited failure waits at least as long as the server asked. When it
/// will not retry, it passes the failure on to the strategies outside it.
struct FixedDelayRetry: RecoveryPlugin {
    struct Configuration: Decodable {
        var delayMilliseconds: UInt64?
        var maxAttempts: Int?

        enum CodingKeys: String, CodingKey {
            case delayMilliseconds = "delay_ms"
            case maxAttempts = "max_attempts"
        }
    }

    /// A step may override the deployment's defaults.
    typealias Policy = Configuration

    static let id = "recovery.fixed-delay"
    static let version = "1.0.0"
    static let summary = "Retries retryable and rate-limited failures after a fixed delay."

    let delay: UInt64
    let maxAttempts: Int

    init(configuration: Configuration, host: TrellisHost) throws {
        delay = configuration.delayMilliseconds ?? 1000
        maxAttempts = configuration.maxAttempts ?? 3
        guard maxAttempts >= 1 else {
            throw PluginError.config("max_attempts must be at least 1 (it counts the first attempt)")
        }
    }

    func decide(_ failure: Failure, policy: Policy, context: CallContext) throws -> RecoveryDecision {
        let limit = policy.maxAttempts ?? maxAttempts
        let wait = policy.delayMilliseconds ?? delay
        guard failure.errorClass == .retryable || failure.errorClass == .rateLimited else { return .pass }
        guard failure.attempt < limit else { return .pass }
        return .retry(afterMilliseconds: max(wait, failure.retryAfterMilliseconds))
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(FixedDelayRetry.self) }
