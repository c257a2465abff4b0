import TrellisSDK

/// Hedged requests: when an attempt has not answered after `after_ms`, the
/// host starts another call of it — of the same plugin, or of `uses` with
/// `with` — up to `max_hedges` more. The first success wins and the host
/// cancels the others; the attempt fails only when every call has failed.
/// Suits idempotent reads with a long latency tail (providers, lookups).
struct Hedge: RecoveryPlugin {
    struct Configuration: Decodable, Sendable {
        var after_ms: UInt64?
        var max_hedges: Int?
    }

    struct Policy: Decodable, Sendable {
        var after_ms: UInt64?
        var max_hedges: Int?
        /// Another plugin for the extra calls (default: the step's own).
        var uses: String?
        /// Its inputs (may use expressions); default: the step's own.
        var with: JSON?
    }

    static let id = "recovery.hedge"
    static let version = "1.0.0"
    static let summary = "Starts another call of a slow attempt; the first success wins."

    let configuration: Configuration

    init(configuration: Configuration, host: TrellisHost) throws {
        if let maximum = configuration.max_hedges, maximum < 1 {
            throw PluginError.config("max_hedges must be at least 1, not \(maximum)")
        }
        self.configuration = configuration
    }

    func admit(_ attempt: Attempt, policy: Policy, context: CallContext) throws -> Admission {
        let maximum = policy.max_hedges ?? configuration.max_hedges ?? 1
        guard maximum >= 1 else { throw PluginError.config("max_hedges must be at least 1, not \(maximum)") }
        return .hedge(afterMilliseconds: policy.after_ms ?? configuration.after_ms ?? 1000, maxHedges: maximum,
                      uses: policy.uses, with: policy.with)
    }

    func decide(_ failure: Failure, policy: Policy, context: CallContext) throws -> RecoveryDecision { .pass }
}

@_cdecl("trellis_plugin_entry")
public func trellisPluginEntry() -> UnsafeRawPointer { exportPlugin(Hedge.self) }
