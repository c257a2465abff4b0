import TrellisSDK

/// On failure, sends the step's next attempt to another plugin (another
/// provider or channel) with its own inputs. The step records which plugin
/// answered (`${{ steps.x.plugin }}`).
struct Fallback: RecoveryPlugin {
    struct Policy: Decodable, Sendable {
        /// The plugin to try instead.
        var uses: String
        /// Its inputs (may use expressions); default: the step's own.
        var with: JSON?
        /// Error classes that fall back; default: all but config and cancelled.
        var on: [String]?
    }

    static let id = "recovery.fallback"
    static let version = "1.0.0"
    static let summary = "Runs another plugin when the step's plugin fails."

    init(configuration: EmptyConfiguration, host: TrellisHost) throws {}

    func decide(_ failure: Failure, policy: Policy, context: CallContext) throws -> RecoveryDecision {
        // The failure came from the fallback itself: let the next strategy decide.
        if failure.key == policy.uses { return .pass }
        let classes = policy.on ?? ["retryable", "rate_limited", "permanent"]
        guard classes.contains(failure.errorClass.description) else { return .pass }
        return .fallback(uses: policy.uses, with: policy.with ?? .null)
    }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(Fallback.self) }
