import TrellisSDK

/// Gives each attempt its own deadline, shorter than the step's `timeout`
/// (which bounds all attempts together). An attempt past it is abandoned and
/// recorded as timed out; later strategies in the pipeline (a retry) decide.
struct AttemptTimeout: RecoveryPlugin {
    struct Configuration: Decodable, Sendable {
        var timeoutMilliseconds: UInt64?

        enum CodingKeys: String, CodingKey {
            case timeoutMilliseconds = "timeout_ms"
        }
    }

    typealias Policy = Configuration

    static let id = "recovery.timeout"
    static let version = "1.0.0"
    static let summary = "Gives every attempt its own deadline."

    let timeout: UInt64

    init(configuration: Configuration, host: TrellisHost) throws {
        timeout = configuration.timeoutMilliseconds ?? 30_000
        guard timeout > 0 else { throw PluginError.config("timeout_ms must be at least 1") }
    }

    func admit(_ attempt: Attempt, policy: Policy, context: CallContext) throws -> Admission {
        .proceedWithTimeout(milliseconds: policy.timeoutMilliseconds ?? timeout)
    }

    func decide(_ failure: Failure, policy: Policy, context: CallContext) throws -> RecoveryDecision {
        .pass
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(AttemptTimeout.self) }
