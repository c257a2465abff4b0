import TrellisSDK

/// On failure, serves the last good output of the same step for the same
/// resolved inputs, if it is younger than `max_age_ms`. The host keeps those
/// outputs in its store (this plugin's manifest asks it to), so they survive
/// a restart; a served output is marked stale with its age
/// (`${{ steps.x.stale }}`, `${{ steps.x.stale_age_ms }}`). With nothing
/// young enough to serve, the failure goes on to the next outer strategy.
struct CacheFallback: RecoveryPlugin {
    struct Configuration: Decodable, Sendable {
        var max_age_ms: UInt64?
    }

    struct Policy: Decodable, Sendable {
        /// The oldest output to serve; default: the deployment's, else one day.
        var max_age_ms: UInt64?
        /// Error classes that serve a cached output; default: retryable, rate_limited, permanent.
        var on: [String]?
    }

    static let id = "recovery.cache-fallback"
    static let version = "1.0.0"
    static let summary = "Serves a step's last good output when it fails."

    let defaultMaxAge: UInt64

    init(configuration: Configuration, host: TrellisHost) throws {
        defaultMaxAge = configuration.max_age_ms ?? 86_400_000
    }

    func decide(_ failure: Failure, policy: Policy, context: CallContext) throws -> RecoveryDecision {
        let classes = policy.on ?? ["retryable", "rate_limited", "permanent"]
        guard classes.contains(failure.errorClass.description) else { return .pass }
        return .useCached(maxAgeMilliseconds: policy.max_age_ms ?? defaultMaxAge)
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(CacheFallback.self) }
